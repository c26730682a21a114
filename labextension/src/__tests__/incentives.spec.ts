/**
 * A valued task in the sidebar: each payout explains itself (its title is the
 * kernel's why, a click unfolds it with its numbers), stakes and proposals are
 * small sections under the task, and what the user folds stays folded when the
 * next event rebuilds the view.
 */
import { LedgerModel } from '../model';
import type { IProposal } from '../messages';
import { formatPpm, formatRatio, formatSignificant } from '../views/format';
import {
  groupScore,
  quorumProgress,
  rulesText,
  stakeChangeText
} from '../views/incentives';
import { LedgerView } from '../views/ledgerView';
import { renderTasks } from '../views/tasks';
import {
  ALICE,
  BOB,
  CAROL,
  ERIN,
  clone,
  sampleState,
  snapshotMessage,
  valuedState
} from './fixtures';
import { FakeKernel, trans } from './fakeKernel';

function renderValued(state = valuedState()): HTMLElement {
  return renderTasks(state.tasks, 'FCR', 18, trans);
}

const $ = (root: HTMLElement, selector: string) =>
  root.querySelector<HTMLElement>(selector);
const $$ = (root: HTMLElement, selector: string) =>
  Array.from(root.querySelectorAll<HTMLElement>(selector));

describe('formatting the explanations', () => {
  it('words ratios, shares and values as the kernel does', () => {
    expect(formatRatio(0.9175)).toBe('0.92');
    expect(formatRatio(1)).toBe('1.00');
    expect(formatPpm(245000)).toBe('24.5%');
    expect(formatPpm(1_000_000)).toBe('100.0%');
    expect(formatPpm(0)).toBe('0.0%');
    // Python's '%.3g', case by case
    expect(formatSignificant(0.031)).toBe('0.031');
    expect(formatSignificant(0.16061315)).toBe('0.161');
    expect(formatSignificant(-0.008)).toBe('-0.008');
    expect(formatSignificant(0.000012)).toBe('1.2e-05');
    expect(formatSignificant(1234)).toBe('1.23e+03');
    expect(formatSignificant(0.09996)).toBe('0.1');
    expect(formatSignificant(0)).toBe('0');
  });

  it('words a group score with its value and the median, or without them', () => {
    const payout = valuedState().tasks[0].rounds[0].contributions[0].payout!;
    expect(groupScore(payout, trans)).toBe(
      'g1 scored 1.20× the median group (0.161 vs 0.134)'
    );
    expect(
      groupScore({ ...payout, group_value: null, median_value: null }, trans)
    ).toBe('g1 scored 1.20× the median group');
    expect(
      groupScore({ ...payout, group_number: null, group: 'odd' }, trans)
    ).toBe('odd scored 1.20× the median group (0.161 vs 0.134)');
  });

  it('words a stake change with its round and reason', () => {
    const change = valuedState().tasks[0].stakes!.parties[1].last_change!;
    expect(stakeChangeText(change, 'FCR', 18, trans)).toBe(
      'round 1: slashed 2.5 FCR (low standing 0.41 < 0.50)'
    );
    expect(
      stakeChangeText(
        { ...change, kind: 'withdrawn', round: null, reason: 'task ended' },
        'FCR',
        18,
        trans
      )
    ).toBe('withdrawn 2.5 FCR (task ended)');
  });

  it('counts for and abstain votes toward the quorum, exactly', () => {
    const [executed, voting] = valuedState().tasks[0].governance!.proposals;
    expect(quorumProgress(executed)).toEqual({
      counted: '40000000000000000000',
      met: true
    });
    expect(quorumProgress(voting)).toEqual({
      counted: '7000000000000000000',
      met: false
    });
    const unopened: IProposal = { ...voting, quorum: null };
    expect(quorumProgress(unopened).met).toBeNull();
    expect(rulesText(executed.changes)).toBe('valuation shapley');
    expect(rulesText([])).toBe('');
  });
});

describe('payouts of a valued round', () => {
  it('one row per party: group, standing, reward, and the why as its title', () => {
    const root = renderValued();
    const rows = $$(root, '.fc-payout');
    expect(rows).toHaveLength(6);
    // grouped, then by name; the reason and numbers as data for tests and styles
    expect(rows.map(r => [r.dataset.group, r.dataset.paid])).toEqual([
      ['g1', 'true'],
      ['g1', 'true'],
      ['g1', 'true'],
      ['g2', 'false'],
      ['g2', 'true'],
      ['g2', 'true']
    ]);
    const alice = rows.find(r => r.dataset.participant === ALICE)!;
    expect(alice.dataset.standing).toBe('1.05');
    expect(alice.dataset.sharePpm).toBe('200155');
    const summary = $(alice, '.fc-payout-summary')!;
    expect(summary.title).toBe(
      'group 1 scored 0.161 (median 0.134); standing 1.05 ≥ 0.75; 20.0% of the round by 71 capped samples'
    );
    expect($$(summary, 'span').map(span => span.textContent)).toEqual([
      'alice',
      'g1',
      '1.05',
      '12.0093'
    ]);
    expect($(alice, '.fc-payout-why')!.textContent).toBe(summary.title);
    const facts = $$(alice, '.fc-payout-facts dd').map(dd => dd.textContent);
    expect(facts).toEqual([
      'g1 scored 1.20× the median group (0.161 vs 0.134)',
      '1.05 over 1 round; pays from 0.75',
      '20.0% of the round, by 71 capped samples',
      '12.0093 FCR (claimed)'
    ]);
  });

  it('says when a party was not paid and why', () => {
    const root = renderValued();
    const bob = $(root, `.fc-payout[data-participant="${BOB}"]`)!;
    expect(bob.dataset.reason).toBe('low standing');
    expect($(bob, '.fc-payout-reward')!.textContent).toBe('not paid');
    expect($(bob, '.fc-payout-summary')!.title).toBe(
      'standing 0.41 < 0.75: not paid'
    );
    const carol = $(root, `.fc-payout[data-participant="${CAROL}"]`)!;
    expect($(carol, '.fc-payout-party')!.textContent).toBe('0x3333…3333');
    const erin = $(root, `.fc-payout[data-participant="${ERIN}"]`)!;
    expect($(erin, '.fc-payout-party')!.textContent).toBe(
      'erin-from-a-rather-long-organisation-name'
    ); // cut short by the style sheet, whole in the DOM
  });

  it('open for the newest round that paid by value, folded for older ones', () => {
    const state = valuedState();
    const first = state.tasks[0].rounds[0];
    const second = clone(first);
    second.round = 2;
    state.tasks[0].rounds.push(second);
    state.tasks[0].current_round = 2;
    const root = renderValued(state);
    const folds = $$(root, 'details.fc-payouts') as HTMLDetailsElement[];
    expect(folds.map(d => [d.dataset.key, d.open])).toEqual([
      ['payouts-1-2', true],
      ['payouts-1-1', false]
    ]);
    expect($(root, '.fc-payouts-summary')!.textContent).toBe(
      'Payouts: 5 of 6 paid'
    );
  });

  it('a task paying by samples shows no payouts, no stakes, no governance', () => {
    const root = renderTasks(sampleState().tasks, 'FCT', 18, trans);
    expect($$(root, '.fc-payouts, .fc-stakes, .fc-governance')).toEqual([]);
    expect($(root, '.fc-valuation')).toBeNull();
    expect($(renderValued(), '.fc-valuation')!.textContent).toBe(
      'by value: Shapley over groups'
    );
  });

  it("each task says who can read one party's update", () => {
    const plain = renderTasks(sampleState().tasks, 'FCT', 18, trans);
    expect($(plain, '.fc-privacy')!.dataset.privacy).toBe('off');
    expect($(plain, '.fc-privacy')!.textContent).toBe(
      'encrypted: the key holder could read one update'
    );
    expect($(renderValued(), '.fc-privacy')!.textContent).toBe(
      'masked: no one can read one update'
    );
    const unknown = sampleState();
    unknown.tasks[0].privacy = ''; // another workspace's task: no manifest here
    expect(
      $(renderTasks(unknown.tasks, 'FCT', 18, trans), '.fc-privacy')
    ).toBeNull();
  });
});

describe('stakes and proposals under the task', () => {
  it('each party: staked, slashed, refunded, and its last change and why', () => {
    const root = renderValued();
    expect($(root, '.fc-stakes summary')!.textContent).toBe(
      'Stakes: 6 parties, 2.5 FCR slashed'
    );
    expect($(root, '.fc-stakes-rules')!.textContent).toBe(
      '10 FCR a party; an offence takes 25% of what is left; slashed below standing 0.50'
    );
    const rows = $$(root, 'tr.fc-stake');
    expect(rows).toHaveLength(6);
    const bob = rows[0]; // the slashed first
    expect(bob.dataset.participant).toBe(BOB);
    expect($$(bob, 'td').map(td => td.textContent)).toEqual([
      'bob',
      '10',
      '2.5',
      '0'
    ]);
    expect(bob.title).toBe(
      'round 1: slashed 2.5 FCR (low standing 0.41 < 0.50)'
    );
    const changes = $$(root, 'tr.fc-stake-change');
    expect(
      changes.map(row => [row.dataset.participant, row.textContent])
    ).toEqual([[BOB, 'round 1: slashed 2.5 FCR (low standing 0.41 < 0.50)']]);
    const alice = rows.find(row => row.dataset.participant === ALICE)!;
    expect(alice.dataset.changed).toBe('false');
    expect(alice.title).toBe('round 1: staked 10 FCR (participant stake)');
  });

  it('each proposal: state, what it changes from which round, votes against the quorum', () => {
    const root = renderValued();
    expect($(root, '.fc-governance summary')!.textContent).toBe(
      'Governance: 2 proposals'
    );
    expect($(root, '.fc-governed-rules')!.textContent).toBe(
      'Rules from round 2: k 3 · valuation shapley · min standing 0.75'
    );
    const proposals = $$(root, '.fc-proposal');
    expect(proposals.map(p => [p.dataset.number, p.dataset.state])).toEqual([
      ['2', 'active'],
      ['1', 'executed']
    ]);
    const [voting, executed] = proposals;
    expect($(executed, '.fc-proposal-title')!.textContent).toBe(
      '#1 k 3 and Shapley'
    );
    expect($(executed, '.fc-proposal-state')!.textContent).toBe('executed');
    expect($(executed, '.fc-proposal-changes')!.textContent).toBe(
      'changes valuation shapley from round 2'
    );
    expect(executed.dataset.quorumMet).toBe('true');
    expect($(executed, '.fc-proposal-votes')!.textContent).toBe(
      '40 for, 8 against, 0 abstain; quorum 15 FCR (met)'
    );
    expect($(voting, '.fc-proposal-state')!.textContent).toBe('voting');
    expect($(voting, '.fc-proposal-changes')!.textContent).toBe('changes k 6');
    expect(voting.dataset.quorumMet).toBe('false');
    const bar = $(voting, '.fc-meter')!;
    expect(bar.dataset.complete).toBe('false');
    expect($(bar, '.fc-meter-fill')!.style.width).toBe('47%'); // 7 of 15
  });
});

describe('LedgerView with a valued task', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('keeps what the user unfolded or folded through the next event', () => {
    const kernel = new FakeKernel();
    const model = new LedgerModel({ kernel: kernel.asKernel() });
    const view = new LedgerView({ trans });
    view.setModel(model, 'valued.ipynb');
    kernel.lastComm.receive(snapshotMessage(valuedState()));
    const details = (selector: string) =>
      view.node.querySelector<HTMLDetailsElement>(selector)!;
    const bobRow = `.fc-payout[data-participant="${BOB}"] details`;
    expect(details(bobRow).open).toBe(false);
    expect(details('.fc-stakes').open).toBe(true);
    details(`${bobRow} summary`).click();
    details('.fc-stakes summary').click();
    expect(details(bobRow).open).toBe(true);
    expect(details('.fc-stakes').open).toBe(false);

    const next = valuedState();
    next.network.block_number = 16;
    kernel.lastComm.receive(snapshotMessage(next)); // the DOM is rebuilt
    expect(view.node.querySelector('.fc-block-number')!.textContent).toContain(
      '16'
    );
    expect(details(bobRow).open).toBe(true);
    expect(details('.fc-stakes').open).toBe(false);
    expect(details('.fc-governance').open).toBe(true);
    view.dispose();
  });
});
