import type { TranslationBundle } from '@jupyterlab/translation';

import type { IBalance } from '../messages';
import { h } from './dom';
import { accountLabel, compareTokenAmounts, formatTokenAmount } from './format';

/** Reward balances as bars, the largest first. */
export function renderBalances(
  balances: IBalance[],
  tokenSymbol: string,
  tokenDecimals: number,
  trans: TranslationBundle
): HTMLElement {
  const sorted = [...balances].sort(
    (a, b) =>
      compareTokenAmounts(b.balance, a.balance) ||
      a.account.localeCompare(b.account)
  );
  const max = Math.max(0, ...sorted.map(entry => entry.balance_tokens));
  return h(
    'section',
    { class: 'fc-section fc-balances' },
    h('h3', { class: 'fc-section-title' }, trans.__('Reward balances')),
    sorted.length
      ? h(
          'ul',
          { class: 'fc-balance-list' },
          ...sorted.map(entry => {
            const fill = h('span', { class: 'fc-balance-fill' });
            fill.style.width = `${max > 0 ? (entry.balance_tokens / max) * 100 : 0}%`;
            const amount = formatTokenAmount(entry.balance, tokenDecimals);
            return h(
              'li',
              {
                class: 'fc-balance',
                'data-account': entry.account,
                'data-balance': entry.balance,
                title: `${entry.account}: ${entry.balance}`
              },
              h(
                'span',
                { class: 'fc-account' },
                accountLabel(entry.account, entry.name)
              ),
              h(
                'span',
                { class: 'fc-balance-bar', 'aria-hidden': 'true' },
                fill
              ),
              h(
                'span',
                { class: 'fc-balance-amount fc-number' },
                trans.__('%1 %2', amount, tokenSymbol)
              )
            );
          })
        )
      : h(
          'p',
          { class: 'fc-hint fc-muted' },
          trans.__('No account holds rewards yet.')
        )
  );
}
