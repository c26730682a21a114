import type { TranslationBundle } from '@jupyterlab/translation';

import type {
  IContribution,
  IPartyStake,
  IPayout,
  IProposal,
  IRound,
  IRule,
  IStakeChange,
  ITask
} from '../messages';
import { h } from './dom';
import {
  accountLabel,
  addTokenAmounts,
  compareTokenAmounts,
  formatPpm,
  formatRatio,
  formatSignificant,
  formatTokenAmount
} from './format';
import { meter } from './meter';

/**
 * Why each party was paid what it was paid, in a valued round: one row per
 * contribution (party, group, standing, reward) whose title is the kernel's
 * one-line why; a row expands to the line and its numbers. Null for a round
 * without payouts (a task paying by samples, a table not posted yet).
 */
export function renderPayouts(
  task: ITask,
  round: IRound,
  open: boolean,
  tokenSymbol: string,
  tokenDecimals: number,
  trans: TranslationBundle
): HTMLElement | null {
  const rows = round.contributions.filter(c => c.payout !== null);
  if (!rows.length) {
    return null;
  }
  rows.sort(
    (a, b) =>
      groupOrder(a.payout!) - groupOrder(b.payout!) ||
      accountLabel(a.participant, a.name).localeCompare(
        accountLabel(b.participant, b.name)
      )
  );
  const paid = rows.filter(c => c.payout!.paid).length;
  return h(
    'details',
    {
      class: 'fc-payouts',
      'data-key': `payouts-${task.task_id}-${round.round}`,
      open
    },
    h(
      'summary',
      { class: 'fc-payouts-summary' },
      trans.__('Payouts: %1 of %2 paid', paid, rows.length)
    ),
    h(
      'div',
      { class: 'fc-payout-head', 'aria-hidden': 'true' },
      h('span', {}, trans.__('Party')),
      h(
        'span',
        { title: trans.__('The group it was valued in') },
        trans.__('Group')
      ),
      h(
        'span',
        {
          class: 'fc-number',
          title: trans.__('Its standing over rounds (1 = the median party)')
        },
        trans.__('Standing')
      ),
      h('span', { class: 'fc-number' }, tokenSymbol || trans.__('Reward'))
    ),
    h(
      'ul',
      { class: 'fc-payout-list' },
      ...rows.map(row =>
        renderPayout(task, round, row, tokenSymbol, tokenDecimals, trans)
      )
    )
  );
}

function groupOrder(payout: IPayout): number {
  return payout.group_number ?? Number.MAX_SAFE_INTEGER;
}

function groupLabel(payout: IPayout, trans: TranslationBundle): string {
  return payout.group_number !== null
    ? trans.__('g%1', payout.group_number)
    : payout.group;
}

function renderPayout(
  task: ITask,
  round: IRound,
  contribution: IContribution,
  tokenSymbol: string,
  tokenDecimals: number,
  trans: TranslationBundle
): HTMLElement {
  const payout = contribution.payout!;
  const label = accountLabel(contribution.participant, contribution.name);
  const reward =
    contribution.reward === null
      ? '–'
      : formatTokenAmount(contribution.reward, tokenDecimals);
  return h(
    'li',
    {
      class: 'fc-payout',
      'data-task-id': task.task_id,
      'data-round': round.round,
      'data-participant': contribution.participant,
      'data-group': payout.group,
      'data-score': payout.group_score,
      'data-standing': payout.standing,
      'data-share-ppm': payout.share_ppm,
      'data-paid': String(payout.paid),
      'data-reason': payout.reason
    },
    h(
      'details',
      {
        class: 'fc-payout-details',
        'data-key': `payout-${task.task_id}-${round.round}-${contribution.participant.toLowerCase()}`
      },
      h(
        'summary',
        { class: 'fc-payout-summary', title: payout.why },
        h('span', { class: 'fc-payout-party' }, label),
        h('span', { class: 'fc-payout-group' }, groupLabel(payout, trans)),
        h(
          'span',
          { class: 'fc-payout-standing fc-number' },
          formatRatio(payout.standing)
        ),
        h(
          'span',
          { class: 'fc-payout-reward fc-number' },
          payout.paid ? reward : trans.__('not paid')
        )
      ),
      h('p', { class: 'fc-payout-why' }, payout.why),
      h(
        'dl',
        { class: 'fc-facts fc-payout-facts' },
        h('dt', {}, trans.__('Group')),
        h('dd', { class: 'fc-payout-score' }, groupScore(payout, trans)),
        h('dt', {}, trans.__('Standing')),
        h('dd', {}, standingText(payout, trans)),
        h('dt', {}, trans.__('Share')),
        h('dd', {}, shareText(payout, trans)),
        h('dt', {}, trans.__('Reward')),
        h(
          'dd',
          {},
          contribution.reward === null
            ? trans.__('not known yet')
            : trans.__(
                '%1 %2 (%3)',
                reward,
                tokenSymbol,
                contribution.claimed
                  ? trans.__('claimed')
                  : trans.__('unclaimed')
              )
        )
      )
    )
  );
}

/** `g2 scored 1.55× the median group (0.031 vs 0.02)`. */
export function groupScore(payout: IPayout, trans: TranslationBundle): string {
  const scored = trans.__(
    '%1 scored %2× the median group',
    groupLabel(payout, trans),
    formatRatio(payout.group_score)
  );
  if (payout.group_value === null || payout.median_value === null) {
    return scored;
  }
  return trans.__(
    '%1 (%2 vs %3)',
    scored,
    formatSignificant(payout.group_value),
    formatSignificant(payout.median_value)
  );
}

function standingText(payout: IPayout, trans: TranslationBundle): string {
  const standing = formatRatio(payout.standing);
  const rounds =
    payout.rounds === null
      ? ''
      : trans._n(' over %1 round', ' over %1 rounds', payout.rounds);
  if (payout.min_standing === null) {
    return standing + rounds;
  }
  return trans.__(
    '%1%2; pays from %3',
    standing,
    rounds,
    formatRatio(payout.min_standing)
  );
}

function shareText(payout: IPayout, trans: TranslationBundle): string {
  const share = trans.__('%1 of the round', formatPpm(payout.share_ppm));
  if (payout.capped_samples === null) {
    return share;
  }
  return trans.__(
    '%1, by %2 capped samples',
    share,
    Math.round(payout.capped_samples).toLocaleString()
  );
}

/** `round 3: slashed 2.5 FCR (low standing 0.41 < 0.50)`: one stake change. */
export function stakeChangeText(
  change: IStakeChange,
  tokenSymbol: string,
  tokenDecimals: number,
  trans: TranslationBundle
): string {
  const what = trans.__(
    '%1 %2 %3 (%4)',
    change.kind,
    formatTokenAmount(change.amount, tokenDecimals),
    tokenSymbol,
    change.reason
  );
  return change.round === null
    ? what
    : trans.__('round %1: %2', change.round, what);
}

/**
 * A task's stakes: the rules in one line, then per party what it staked, lost
 * and got back; a party whose stake changed since it staked shows its last
 * change and why under its row. Null for a task without stakes.
 */
export function renderStakes(
  task: ITask,
  tokenSymbol: string,
  tokenDecimals: number,
  trans: TranslationBundle
): HTMLElement | null {
  const stakes = task.stakes;
  if (stakes === null) {
    return null;
  }
  const amount = (units: string) => formatTokenAmount(units, tokenDecimals);
  const slashed = stakes.parties.reduce(
    (total, party) => addTokenAmounts(total, party.slashed),
    '0'
  );
  const parties = [...stakes.parties].sort(
    (a, b) =>
      compareTokenAmounts(b.slashed, a.slashed) ||
      accountLabel(a.account, a.name).localeCompare(
        accountLabel(b.account, b.name)
      )
  );
  return h(
    'details',
    { class: 'fc-stakes', 'data-key': `stakes-${task.task_id}`, open: true },
    h(
      'summary',
      { class: 'fc-subsection-title' },
      trans._n(
        'Stakes: %1 party, %2 %3 slashed',
        'Stakes: %1 parties, %2 %3 slashed',
        stakes.parties.length,
        amount(slashed),
        tokenSymbol
      )
    ),
    h(
      'p',
      { class: 'fc-stakes-rules fc-muted' },
      trans.__(
        '%1 %2 a party; an offence takes %3 of what is left; slashed below standing %4',
        amount(stakes.required_stake),
        tokenSymbol,
        formatPpm(Math.round(stakes.slash * 1e6)).replace('.0%', '%'),
        formatRatio(stakes.min_standing)
      )
    ),
    parties.length
      ? h(
          'table',
          { class: 'fc-table fc-stakes-table' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, trans.__('Party')),
              h('th', { scope: 'col', class: 'fc-number' }, trans.__('Staked')),
              h(
                'th',
                { scope: 'col', class: 'fc-number' },
                trans.__('Slashed')
              ),
              h(
                'th',
                {
                  scope: 'col',
                  class: 'fc-number',
                  title: trans.__(
                    'Came back: the stake returned when the task ended, and dispute bonds refunded'
                  )
                },
                trans.__('Refunded')
              )
            )
          ),
          h(
            'tbody',
            {},
            ...parties.flatMap(party =>
              stakeRows(task, party, tokenSymbol, tokenDecimals, trans)
            )
          )
        )
      : h('p', { class: 'fc-hint fc-muted' }, trans.__('Nobody staked yet.'))
  );
}

function stakeRows(
  task: ITask,
  party: IPartyStake,
  tokenSymbol: string,
  tokenDecimals: number,
  trans: TranslationBundle
): HTMLElement[] {
  const amount = (units: string) => formatTokenAmount(units, tokenDecimals);
  const last = party.last_change;
  const lastText =
    last === null
      ? ''
      : stakeChangeText(last, tokenSymbol, tokenDecimals, trans);
  // The initial stake alone says nothing new: its row's title is enough.
  const hasChangeRow =
    last !== null && (last.kind !== 'staked' || party.change_count > 1);
  const rows = [
    h(
      'tr',
      {
        class: 'fc-stake',
        'data-task-id': task.task_id,
        'data-participant': party.account,
        'data-role': party.role,
        'data-staked': party.staked,
        'data-slashed': party.slashed,
        'data-refunded': party.refunded,
        'data-last-change': last?.kind ?? null,
        'data-changed': String(hasChangeRow),
        title: lastText || null
      },
      h(
        'td',
        { class: 'fc-account', title: `${party.account} (${party.role})` },
        accountLabel(party.account, party.name)
      ),
      h('td', { class: 'fc-number' }, amount(party.staked)),
      h(
        'td',
        {
          class: 'fc-number fc-stake-slashed',
          'data-slashed': String(party.slashed !== '0')
        },
        amount(party.slashed)
      ),
      h('td', { class: 'fc-number' }, amount(party.refunded))
    )
  ];
  if (last !== null && hasChangeRow) {
    rows.push(
      h(
        'tr',
        {
          class: 'fc-stake-change',
          'data-participant': party.account,
          'data-kind': last.kind
        },
        h('td', { class: 'fc-stake-reason', colspan: 4 }, lastText)
      )
    );
  }
  return rows;
}

function proposalState(
  state: IProposal['state'],
  trans: TranslationBundle
): string {
  switch (state) {
    case 'pending':
      return trans.__('pending');
    case 'active':
      return trans.__('voting');
    case 'canceled':
      return trans.__('canceled');
    case 'defeated':
      return trans.__('defeated');
    case 'succeeded':
      return trans.__('passed');
    case 'queued':
      return trans.__('queued');
    case 'expired':
      return trans.__('expired');
    case 'executed':
      return trans.__('executed');
  }
}

/** `k 6 · valuation shapley`. */
export function rulesText(rules: IRule[]): string {
  return rules.map(rule => `${rule.rule} ${rule.value}`).join(' · ');
}

/** The votes that count toward a proposal's quorum (for + abstain), and whether they reach it. */
export function quorumProgress(proposal: IProposal): {
  counted: string;
  met: boolean | null;
} {
  const counted = addTokenAmounts(proposal.votes_for, proposal.votes_abstain);
  return {
    counted,
    met:
      proposal.quorum === null
        ? null
        : compareTokenAmounts(counted, proposal.quorum) >= 0
  };
}

function renderProposal(
  task: ITask,
  proposal: IProposal,
  tokenSymbol: string,
  tokenDecimals: number,
  trans: TranslationBundle
): HTMLElement {
  const amount = (units: string) => formatTokenAmount(units, tokenDecimals);
  const { counted, met } = quorumProgress(proposal);
  const tally = trans.__(
    '%1 for, %2 against, %3 abstain',
    amount(proposal.votes_for),
    amount(proposal.votes_against),
    amount(proposal.votes_abstain)
  );
  const quorum =
    proposal.quorum === null
      ? trans.__('%1; its vote has not opened', tally)
      : trans.__(
          '%1; quorum %2 %3 (%4)',
          tally,
          amount(proposal.quorum),
          tokenSymbol,
          met ? trans.__('met') : trans.__('not met')
        );
  const changes = rulesText(proposal.changes);
  return h(
    'li',
    {
      class: 'fc-proposal',
      'data-task-id': task.task_id,
      'data-number': proposal.number,
      'data-state': proposal.state,
      'data-from-round': proposal.from_round,
      'data-quorum-met': met === null ? 'pending' : String(met)
    },
    h(
      'div',
      { class: 'fc-proposal-header' },
      h(
        'span',
        { class: 'fc-proposal-title', title: proposal.description },
        trans.__('#%1 %2', proposal.number, proposal.description)
      ),
      h(
        'span',
        { class: 'fc-phase fc-proposal-state', 'data-state': proposal.state },
        proposalState(proposal.state, trans)
      )
    ),
    h(
      'div',
      { class: 'fc-proposal-changes' },
      proposal.from_round === null
        ? trans.__('changes %1', changes)
        : trans.__('changes %1 from round %2', changes, proposal.from_round)
    ),
    meter(
      Number(counted),
      proposal.quorum === null ? 0 : Number(proposal.quorum),
      quorum
    ),
    h('div', { class: 'fc-proposal-votes fc-muted' }, quorum)
  );
}

/**
 * A governed task's rules (and the round they apply from) and its proposals:
 * state, what each changes and from which round, votes against the quorum.
 * Null for a task not under governance.
 */
export function renderGovernance(
  task: ITask,
  tokenSymbol: string,
  tokenDecimals: number,
  trans: TranslationBundle
): HTMLElement | null {
  const governance = task.governance;
  if (governance === null) {
    return null;
  }
  const proposals = [...governance.proposals].sort(
    (a, b) => b.number - a.number
  );
  return h(
    'details',
    {
      class: 'fc-governance',
      'data-key': `governance-${task.task_id}`,
      open: true
    },
    h(
      'summary',
      { class: 'fc-subsection-title' },
      trans._n(
        'Governance: %1 proposal',
        'Governance: %1 proposals',
        proposals.length
      )
    ),
    h(
      'p',
      { class: 'fc-governed-rules fc-muted' },
      trans.__(
        'Rules from round %1: %2',
        governance.from_round,
        rulesText(governance.rules)
      )
    ),
    proposals.length
      ? h(
          'ol',
          { class: 'fc-proposal-list' },
          ...proposals.map(proposal =>
            renderProposal(task, proposal, tokenSymbol, tokenDecimals, trans)
          )
        )
      : h('p', { class: 'fc-hint fc-muted' }, trans.__('No proposal yet.'))
  );
}
