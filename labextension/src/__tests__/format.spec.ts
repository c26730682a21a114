import * as fs from 'fs';
import * as path from 'path';

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

  it('format in whole tokens, rounded half up to 4 fraction digits', () => {
    expect(formatTokenAmount('1500000000000000000', 18)).toBe('1.5');
    expect(formatTokenAmount('1234567000000000000000000', 18)).toBe(
      '1,234,567'
    );
    expect(formatTokenAmount('0', 18)).toBe('0');
    expect(formatTokenAmount('1', 18)).toBe('< 0.0001');
    expect(formatTokenAmount('44444444444444444444', 18)).toBe('44.4444');
    expect(formatTokenAmount('1234', 0)).toBe('1,234');
    expect(formatTokenAmount('5', 1)).toBe('0.5');
    // The notebook said 234.7418 where the sidebar, truncating, said 234.7417.
    expect(formatTokenAmount('234741750000000000000', 18)).toBe('234.7418');
    expect(formatTokenAmount('999950000000000000', 18)).toBe('1');
    expect(formatTokenAmount('0000', 18)).toBe('0');
    expect(formatTokenAmount('15', 1, 0)).toBe('2');
    expect(formatTokenAmount('4', 1, 0)).toBe('< 1');
    expect(() => formatTokenAmount('1.5', 18)).toThrow(RangeError);
  });
});

/** The cases the Python side (fedchain_magics) checks its own formatter against. */
const TOKEN_AMOUNT_CASES: { units: string; decimals: number; text: string }[] =
  JSON.parse(
    fs.readFileSync(
      path.resolve(
        __dirname,
        '../../../fedchain_magics/sidebar/token_amount_cases.json'
      ),
      'utf-8'
    )
  );

describe('token_amount_cases.json (shared with the Python side)', () => {
  it('has the cases the rule needs', () => {
    expect(TOKEN_AMOUNT_CASES.length).toBeGreaterThanOrEqual(25);
    const decimals = new Set(TOKEN_AMOUNT_CASES.map(c => c.decimals));
    for (const d of [0, 6, 18]) {
      expect(decimals.has(d)).toBe(true);
    }
    const texts = TOKEN_AMOUNT_CASES.map(c => c.text);
    expect(texts).toEqual(
      expect.arrayContaining(['0', '< 0.0001', '234.7418'])
    );
    expect(
      TOKEN_AMOUNT_CASES.some(c => BigInt(c.units) > BigInt(2) ** BigInt(64))
    ).toBe(true);
    for (const c of TOKEN_AMOUNT_CASES) {
      expect(Object.keys(c).sort()).toEqual(['decimals', 'text', 'units']);
      expect(c.units).toMatch(/^(0|[1-9][0-9]*)$/);
    }
  });

  it.each(TOKEN_AMOUNT_CASES.map(c => [c.units, c.decimals, c.text] as const))(
    '%s base units with %d decimals read %p',
    (units, decimals, text) => {
      expect(formatTokenAmount(units, decimals)).toBe(text);
    }
  );
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
      latestSamples: 350,
      reward: '33333333333333333333'
    });
    expect(totals.map(t => t.samples)).toEqual([650, 400, 200]);
  });
});
