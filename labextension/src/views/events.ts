import type { TranslationBundle } from '@jupyterlab/translation';

import type { ILedgerEvent, LedgerEventKind } from '../messages';
import { h } from './dom';
import { shortHex } from './format';

export function eventKindLabel(
  kind: LedgerEventKind,
  trans: TranslationBundle
): string {
  switch (kind) {
    case 'block':
      return trans.__('block');
    case 'task_created':
      return trans.__('task created');
    case 'validator_added':
      return trans.__('validator added');
    case 'participant_joined':
      return trans.__('participant joined');
    case 'participant_admitted':
      return trans.__('participant admitted');
    case 'admission_revoked':
      return trans.__('admission revoked');
    case 'round_opened':
      return trans.__('round opened');
    case 'update_committed':
      return trans.__('update committed');
    case 'update_excluded':
      return trans.__('update excluded');
    case 'aggregate_committed':
      return trans.__('aggregate committed');
    case 'aggregate_rejected':
      return trans.__('aggregate rejected');
    case 'aggregate_verified':
      return trans.__('aggregate verified');
    case 'model_committed':
      return trans.__('model committed');
    case 'vote_cast':
      return trans.__('vote cast');
    case 'round_finalized':
      return trans.__('round finalized');
    case 'round_cancelled':
      return trans.__('round cancelled');
    case 'reward_claimed':
      return trans.__('reward claimed');
    case 'scoring_enabled':
      return trans.__('pays by value');
    case 'scores_posted':
      return trans.__('score table posted');
  }
}

/** The recent ledger events, newest first; `latest` (the event just received) is marked. */
export function renderEvents(
  events: ILedgerEvent[],
  latest: ILedgerEvent | null,
  trans: TranslationBundle
): HTMLElement {
  const newestFirst = [...events].reverse();
  return h(
    'section',
    { class: 'fc-section fc-events' },
    h('h3', { class: 'fc-section-title' }, trans.__('Recent ledger events')),
    newestFirst.length
      ? h(
          'ol',
          { class: 'fc-event-list' },
          ...newestFirst.map((event, index) =>
            h(
              'li',
              {
                class:
                  index === 0 && latest !== null
                    ? 'fc-event fc-mod-latest'
                    : 'fc-event',
                'data-kind': event.kind,
                'data-block-number': event.block_number,
                'data-task-id': event.task_id ?? undefined,
                'data-round': event.round ?? undefined
              },
              h(
                'span',
                { class: 'fc-event-block', title: trans.__('Block number') },
                `#${event.block_number}`
              ),
              h(
                'span',
                { class: 'fc-event-kind' },
                eventKindLabel(event.kind, trans)
              ),
              h('span', { class: 'fc-event-summary' }, event.summary),
              event.tx_hash
                ? h(
                    'span',
                    { class: 'fc-event-tx fc-hex', title: event.tx_hash },
                    shortHex(event.tx_hash)
                  )
                : null,
              event.gas_used !== null
                ? h(
                    'span',
                    { class: 'fc-event-gas' },
                    trans.__('%1 gas', event.gas_used.toLocaleString())
                  )
                : null
            )
          )
        )
      : h('p', { class: 'fc-hint fc-muted' }, trans.__('No ledger event yet.'))
  );
}
