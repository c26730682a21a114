import type { TranslationBundle } from '@jupyterlab/translation';

import type { ITask } from '../messages';
import { h, s } from './dom';
import { accountLabel, addTokenAmounts, formatTokenAmount } from './format';

/** One participant's contributions to a task, over all its rounds. */
export interface IParticipantTotals {
  participant: string;
  name: string | null;
  /** Samples per round, in round order. */
  perRound: { round: number; samples: number }[];
  /** Samples summed over the rounds (sample-rounds: the length of the stacked bar). */
  samples: number;
  /** The samples its latest update was trained on: what the party holds. */
  latestSamples: number;
  /** Rewards credited so far, base units. */
  reward: string;
}

/** Sum each participant's contributions across the task's rounds, most samples first. */
export function participantTotals(task: ITask): IParticipantTotals[] {
  const totals = new Map<string, IParticipantTotals>();
  const rounds = [...task.rounds].sort((a, b) => a.round - b.round);
  for (const round of rounds) {
    for (const contribution of round.contributions) {
      const key = contribution.participant.toLowerCase();
      let entry = totals.get(key);
      if (!entry) {
        entry = {
          participant: contribution.participant,
          name: contribution.name,
          perRound: [],
          samples: 0,
          latestSamples: 0,
          reward: '0'
        };
        totals.set(key, entry);
      }
      entry.name = entry.name ?? contribution.name;
      entry.perRound.push({
        round: round.round,
        samples: contribution.samples
      });
      entry.samples += contribution.samples;
      entry.latestSamples = contribution.samples;
      if (contribution.reward !== null) {
        entry.reward = addTokenAmounts(entry.reward, contribution.reward);
      }
    }
  }
  return [...totals.values()].sort(
    (a, b) =>
      b.samples - a.samples || a.participant.localeCompare(b.participant)
  );
}

const BAR_HEIGHT = 10;
const BAR_GAP = 4;
/** Rounds take these colours in turn (fc-chart-round-0 … -5 in the style sheet). */
const ROUND_COLOURS = 6;

function roundColour(round: number): string {
  return `fc-chart-round-${(round - 1) % ROUND_COLOURS}`;
}

/** Which colour is which round, under the chart. */
function legend(rounds: number[], trans: TranslationBundle): HTMLElement {
  return h(
    'ul',
    { class: 'fc-legend', 'aria-hidden': 'true' },
    ...rounds.map(round =>
      h(
        'li',
        { class: 'fc-legend-item', 'data-round': round },
        h('span', { class: `fc-legend-swatch ${roundColour(round)}` }),
        trans.__('Round %1', round)
      )
    )
  );
}

/** A stacked horizontal bar per participant: one segment per round, length = samples. */
function chart(
  rows: IParticipantTotals[],
  trans: TranslationBundle
): SVGSVGElement {
  const max = Math.max(1, ...rows.map(row => row.samples));
  const height = rows.length * (BAR_HEIGHT + BAR_GAP) - BAR_GAP;
  const bars = rows.map((row, index) => {
    let x = 0;
    const y = index * (BAR_HEIGHT + BAR_GAP);
    const segments = row.perRound.map(entry => {
      const width = (entry.samples / max) * 100;
      const rect = s(
        'rect',
        {
          class: `fc-chart-segment ${roundColour(entry.round)}`,
          'data-round': entry.round,
          x: x.toFixed(3),
          y,
          width: width.toFixed(3),
          height: BAR_HEIGHT
        },
        s(
          'title',
          {},
          trans.__(
            '%1, round %2: %3 samples',
            accountLabel(row.participant, row.name),
            entry.round,
            entry.samples
          )
        )
      );
      x += width;
      return rect;
    });
    return s(
      'g',
      { class: 'fc-chart-bar', 'data-participant': row.participant },
      ...segments
    );
  });
  return s(
    'svg',
    {
      class: 'fc-chart',
      viewBox: `0 0 100 ${Math.max(height, 1)}`,
      preserveAspectRatio: 'none',
      height: Math.max(height, 1),
      role: 'img',
      'aria-label': trans.__(
        'Samples each participant committed in each round, one segment per round'
      )
    },
    ...bars
  );
}

function renderTaskContributions(
  task: ITask,
  tokenSymbol: string,
  tokenDecimals: number,
  trans: TranslationBundle
): HTMLElement | null {
  const rows = participantTotals(task);
  if (!rows.length) {
    return null;
  }
  const rounds = [
    ...new Set(rows.flatMap(row => row.perRound.map(entry => entry.round)))
  ].sort((a, b) => a - b);
  return h(
    'div',
    { class: 'fc-task-contributions', 'data-task-id': task.task_id },
    h('h4', { class: 'fc-task-title' }, trans.__('Task %1', task.task_id)),
    h(
      'p',
      { class: 'fc-chart-caption fc-muted' },
      trans.__('Samples committed per round, stacked')
    ),
    chart(rows, trans),
    legend(rounds, trans),
    h(
      'table',
      { class: 'fc-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, trans.__('Party')),
          h(
            'th',
            {
              scope: 'col',
              class: 'fc-number',
              title: trans.__(
                'The samples each party trains on (those its latest update declared)'
              )
            },
            trans.__('Samples')
          ),
          h(
            'th',
            {
              scope: 'col',
              class: 'fc-number',
              title: trans.__('Rewards credited, in %1', tokenSymbol)
            },
            tokenSymbol || trans.__('Reward')
          )
        )
      ),
      h(
        'tbody',
        {},
        ...rows.map(row =>
          h(
            'tr',
            {
              class: 'fc-contribution',
              'data-task-id': task.task_id,
              'data-participant': row.participant,
              'data-rounds': row.perRound.length,
              'data-samples': row.latestSamples,
              'data-sample-rounds': row.samples,
              'data-reward': row.reward
            },
            h(
              'td',
              { class: 'fc-account', title: row.participant },
              accountLabel(row.participant, row.name)
            ),
            h(
              'td',
              {
                class: 'fc-number',
                title: trans.__(
                  '%1 samples in its latest update; %2 over %3 rounds',
                  row.latestSamples.toLocaleString(),
                  row.samples.toLocaleString(),
                  row.perRound.length
                )
              },
              row.latestSamples.toLocaleString()
            ),
            h(
              'td',
              { class: 'fc-number' },
              formatTokenAmount(row.reward, tokenDecimals)
            )
          )
        )
      )
    )
  );
}

/** Who contributed how much to each task: a bar chart and a table. */
export function renderContributions(
  tasks: ITask[],
  tokenSymbol: string,
  tokenDecimals: number,
  trans: TranslationBundle
): HTMLElement {
  const parts = tasks
    .map(task =>
      renderTaskContributions(task, tokenSymbol, tokenDecimals, trans)
    )
    .filter((part): part is HTMLElement => part !== null);
  return h(
    'section',
    { class: 'fc-section fc-contributions' },
    h('h3', { class: 'fc-section-title' }, trans.__('Contributions')),
    parts.length
      ? h('div', {}, ...parts)
      : h(
          'p',
          { class: 'fc-hint fc-muted' },
          trans.__('No update committed yet.')
        )
  );
}
