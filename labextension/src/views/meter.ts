import { h } from './dom';

/** A thin progress bar: `value` of `target` (capped at full). */
export function meter(
  value: number,
  target: number,
  label: string
): HTMLElement {
  const ratio = target > 0 ? Math.min(value / target, 1) : value > 0 ? 1 : 0;
  const bar = h('span', { class: 'fc-meter-fill' });
  bar.style.width = `${Math.round(ratio * 100)}%`;
  return h(
    'span',
    {
      class: 'fc-meter',
      role: 'meter',
      'aria-valuemin': 0,
      'aria-valuemax': target,
      'aria-valuenow': value,
      'aria-label': label,
      'data-complete': String(value >= target)
    },
    bar
  );
}
