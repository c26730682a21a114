import {
  accountLabel,
  addTokenAmounts,
  compareTokenAmounts,
  formatTokenAmount,
  shortHex
} from '../views/format';
import { participantTotals } from '../views/contributions';
import { ALICE, sampleState } from './fixtures';

describe('token amounts', () => {
  it('compare exactly beyond 2^53', () => {
    expect(
      compareTokenAmounts('9007199254740993', '9007199254740992')
    ).toBeGreaterThan(0);
    expect(compareTokenAmounts('100', '99')).toBeGreaterThan(0);
    expect(compareTokenAmounts('0', '0')).toBe(0);
    expect(compareTokenAmounts('12', '21')).toBeLessThan(0);
  });

  it('add exactly', () => {
    expect(addTokenAmounts('0', '0')).toBe('0');
    expect(addTokenAmounts('999', '1')).toBe('1000');
    expect(addTokenAmounts('9007199254740993', '9007199254740993')).toBe(
      '18014398509481986'
    );
  });

  it('format in whole tokens', () => {
    expect(formatTokenAmount('1500000000000000000', 18)).toBe('1.5');
    expect(formatTokenAmount('1234567000000000000000000', 18)).toBe(
      '1,234,567'
    );
    expect(formatTokenAmount('0', 18)).toBe('0');
    expect(formatTokenAmount('1', 18)).toBe('< 0.0001');
    expect(formatTokenAmount('44444444444444444444', 18)).toBe('44.4444');
    expect(formatTokenAmount('1234', 0)).toBe('1,234');
    expect(formatTokenAmount('5', 1)).toBe('0.5');
  });
});

describe('labels', () => {
  it('shorten hex and prefer names', () => {
    expect(shortHex(ALICE)).toBe('0x1111…1111');
    expect(shortHex('0x12')).toBe('0x12');
    expect(accountLabel(ALICE, 'alice')).toBe('alice');
    expect(accountLabel(ALICE, null)).toBe('0x1111…1111');
  });
});

describe('participantTotals', () => {
  it('sums samples and rewards per participant across rounds', () => {
    const totals = participantTotals(sampleState().tasks[0]);
    expect(totals[0]).toEqual({
      participant: ALICE,
      name: 'alice',
      perRound: [
        { round: 1, samples: 300 },
        { round: 2, samples: 350 }
      ],
      samples: 650,
      reward: '33333333333333333333'
    });
    expect(totals.map(t => t.samples)).toEqual([650, 400, 200]);
  });
});
