import type { TranslationBundle } from '@jupyterlab/translation';

import type { IRound, ITask, RoundPhase } from '../messages';
import { h } from './dom';
import { formatTokenAmount, shortHex } from './format';
import { renderGovernance, renderPayouts, renderStakes } from './incentives';
import { meter } from './meter';

function phaseLabel(phase: RoundPhase, trans: TranslationBundle): string {
  switch (phase) {
    case 'collecting':
      return trans.__('collecting updates');
    case 'aggregated':
      return trans.__('aggregated');
    case 'validating':
      return trans.__('validating');
    case 'accepted':
      return trans.__('accepted');
    case 'rejected':
      return trans.__('rejected');
    case 'cancelled':
      return trans.__('cancelled');
  }
}

function verification(round: IRound, trans: TranslationBundle): HTMLElement {
  const verified = round.aggregate_verified;
  const key = verified === null ? 'pending' : String(verified);
  const [mark, text] =
    verified === null
      ? ['…', trans.__('aggregate not checked yet')]
      : verified
        ? ['✓', trans.__('aggregate matches the committed updates')]
        : ['✗', trans.__('aggregate does not match the committed updates')];
  return h(
    'span',
    { class: 'fc-verified', 'data-verified': key, title: text },
    h('span', { class: 'fc-verified-mark', 'aria-hidden': 'true' }, mark),
    ' ',
    verified === null
      ? trans.__('pending')
      : verified
        ? trans.__('verified')
        : trans.__('mismatch')
  );
}

function renderRound(
  task: ITask,
  round: IRound,
  payoutsOpen: boolean,
  tokenSymbol: string,
  tokenDecimals: number,
  trans: TranslationBundle
): HTMLElement {
  const commits = trans.__(
    '%1 of %2 updates',
    round.commit_count,
    task.min_participants
  );
  const votes = trans.__(
    '%1 accept, %2 reject (quorum %3)',
    round.accept_votes,
    round.reject_votes,
    task.validator_quorum
  );
  return h(
    'li',
    {
      class: 'fc-round',
      'data-task-id': task.task_id,
      'data-round': round.round,
      'data-phase': round.phase,
      'data-commit-count': round.commit_count,
      'data-total-samples': round.total_samples,
      'data-accept-votes': round.accept_votes,
      'data-reject-votes': round.reject_votes,
      'data-verified':
        round.aggregate_verified === null
          ? 'pending'
          : String(round.aggregate_verified)
    },
    h(
      'div',
      { class: 'fc-round-header' },
      h('span', { class: 'fc-round-title' }, trans.__('Round %1', round.round)),
      h(
        'span',
        { class: 'fc-phase', 'data-phase': round.phase },
        phaseLabel(round.phase, trans)
      )
    ),
    h(
      'div',
      { class: 'fc-round-row' },
      h('span', { class: 'fc-round-label' }, trans.__('Commitments')),
      meter(round.commit_count, task.min_participants, commits),
      h('span', { class: 'fc-round-value fc-commits' }, commits)
    ),
    h(
      'div',
      { class: 'fc-round-row' },
      h('span', { class: 'fc-round-label' }, trans.__('Votes')),
      meter(round.accept_votes, task.validator_quorum, votes),
      h('span', { class: 'fc-round-value fc-votes' }, votes)
    ),
    h(
      'div',
      { class: 'fc-round-row' },
      h('span', { class: 'fc-round-label' }, trans.__('Aggregate')),
      verification(round, trans),
      h(
        'span',
        { class: 'fc-round-value fc-samples' },
        trans.__('%1 samples', round.total_samples.toLocaleString())
      )
    ),
    renderPayouts(task, round, payoutsOpen, tokenSymbol, tokenDecimals, trans)
  );
}

function valuationLabel(
  valuation: ITask['valuation'],
  trans: TranslationBundle
): string {
  switch (valuation) {
    case 'shapley':
      return trans.__('by value: Shapley over groups');
    case 'leave-one-out':
      return trans.__('by value: leave one group out');
    default:
      return trans.__('by declared samples');
  }
}

/** Who can read one party's update, in a few words. */
function privacyLabel(
  privacy: ITask['privacy'],
  trans: TranslationBundle
): string {
  switch (privacy) {
    case 'masked':
      return trans.__('masked: no one can read one update');
    case 'research':
      return trans.__('plaintext (research mode)');
    default:
      return trans.__('encrypted: the key holder could read one update');
  }
}

function renderTask(
  task: ITask,
  tokenSymbol: string,
  tokenDecimals: number,
  trans: TranslationBundle
): HTMLElement {
  const title = task.name
    ? trans.__('Task %1: %2', task.task_id, task.name)
    : trans.__('Task %1', task.task_id);
  const rounds = [...task.rounds].sort((a, b) => b.round - a.round);
  // The newest round that paid by value shows its payouts open; older ones fold.
  const newestPaid = rounds.find(round =>
    round.contributions.some(c => c.payout !== null)
  );
  return h(
    'div',
    {
      class: 'fc-task',
      'data-task-id': task.task_id,
      'data-current-round': task.current_round
    },
    h('h4', { class: 'fc-task-title' }, title),
    h(
      'dl',
      { class: 'fc-facts' },
      h('dt', {}, trans.__('Round')),
      h(
        'dd',
        { class: 'fc-current-round' },
        trans.__('%1 of %2', task.current_round, task.max_rounds)
      ),
      h('dt', {}, trans.__('Participants')),
      h(
        'dd',
        {},
        trans.__(
          '%1 (at least %2 per round)',
          task.participant_count,
          task.min_participants
        )
      ),
      h('dt', {}, trans.__('Validators')),
      h(
        'dd',
        {},
        trans.__('%1 (quorum %2)', task.validator_count, task.validator_quorum)
      ),
      h('dt', {}, trans.__('Reward')),
      h(
        'dd',
        { 'data-reward-per-round': task.reward_per_round },
        trans.__(
          '%1 %2 per round',
          formatTokenAmount(task.reward_per_round, tokenDecimals),
          tokenSymbol
        )
      ),
      task.valuation && task.valuation !== 'off'
        ? h('dt', {}, trans.__('Pays'))
        : null,
      task.valuation && task.valuation !== 'off'
        ? h(
            'dd',
            { class: 'fc-valuation', 'data-valuation': task.valuation },
            valuationLabel(task.valuation, trans)
          )
        : null,
      task.privacy ? h('dt', {}, trans.__('Privacy')) : null,
      task.privacy
        ? h(
            'dd',
            { class: 'fc-privacy', 'data-privacy': task.privacy },
            privacyLabel(task.privacy, trans)
          )
        : null,
      h('dt', {}, trans.__('Model')),
      h(
        'dd',
        { class: 'fc-hex', title: task.current_model_digest },
        shortHex(task.current_model_digest, 6)
      ),
      h('dt', {}, trans.__('Coordinator')),
      h(
        'dd',
        { class: 'fc-hex', title: task.coordinator },
        shortHex(task.coordinator)
      )
    ),
    rounds.length
      ? h(
          'ol',
          { class: 'fc-rounds', 'aria-label': trans.__('Rounds of %1', title) },
          ...rounds.map(round =>
            renderRound(
              task,
              round,
              round === newestPaid,
              tokenSymbol,
              tokenDecimals,
              trans
            )
          )
        )
      : h('p', { class: 'fc-hint fc-muted' }, trans.__('No round opened yet.')),
    renderStakes(task, tokenSymbol, tokenDecimals, trans),
    renderGovernance(task, tokenSymbol, tokenDecimals, trans)
  );
}

/** Tasks and their rounds, the newest round first. */
export function renderTasks(
  tasks: ITask[],
  tokenSymbol: string,
  tokenDecimals: number,
  trans: TranslationBundle
): HTMLElement {
  return h(
    'section',
    { class: 'fc-section fc-tasks' },
    h('h3', { class: 'fc-section-title' }, trans.__('Tasks')),
    tasks.length
      ? h(
          'div',
          {},
          ...tasks.map(task =>
            renderTask(task, tokenSymbol, tokenDecimals, trans)
          )
        )
      : h(
          'p',
          { class: 'fc-hint fc-muted' },
          trans.__('No task on this ledger yet.')
        )
  );
}
