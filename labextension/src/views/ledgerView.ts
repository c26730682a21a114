import type { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import type { LedgerModel } from '../model';
import { isClosedLedger, SCHEMA_VERSION } from '../messages';
import { renderBalances } from './balances';
import { renderContributions } from './contributions';
import { h } from './dom';
import { renderEvents } from './events';
import { renderStatus } from './status';
import { renderTasks } from './tasks';

/**
 * Renders one LedgerModel: the connection status, and once the kernel has
 * sent a state, the tasks, contributions, balances and recent events. It
 * only reads the model (and asks it to retry when the user clicks Retry);
 * the panel decides which model it shows.
 */
export class LedgerView extends Widget {
  constructor(options: LedgerView.IOptions) {
    super();
    this._trans = options.trans;
    this.addClass('fc-view');
    this.node.addEventListener('click', this._remember);
    this.render();
  }

  get model(): LedgerModel | null {
    return this._model;
  }

  /** Show another model (or none); `notebookLabel` names the notebook it follows. */
  setModel(model: LedgerModel | null, notebookLabel: string | null): void {
    this._model?.stateChanged.disconnect(this.render, this);
    this._model = model;
    this._notebookLabel = notebookLabel;
    model?.stateChanged.connect(this.render, this);
    this.render();
  }

  dispose(): void {
    this.node.removeEventListener('click', this._remember);
    this._model?.stateChanged.disconnect(this.render, this);
    this._model = null;
    super.dispose();
  }

  /** Rebuild the DOM from the model (the state is small: a few KB). */
  render(): void {
    if (this.isDisposed) {
      return;
    }
    const trans = this._trans;
    const model = this._model;
    const status = model?.status ?? 'no-notebook';
    const state = model?.state ?? null;
    const children: HTMLElement[] = [
      h('h2', { class: 'fc-title' }, trans.__('FedChain ledger')),
      renderStatus({
        status,
        problem: model?.problem ?? null,
        network: state?.network ?? null,
        notebookLabel: model ? this._notebookLabel : null,
        schemaVersion: SCHEMA_VERSION,
        trans,
        onRetry: model ? () => model.retry() : null
      })
    ];
    // A stale state stays visible (dimmed) through errors and reconnects.
    if (state && status !== 'no-notebook' && status !== 'not-loaded') {
      const { tasks, token_symbol: symbol, token_decimals: decimals } = state;
      children.push(
        h(
          'div',
          {
            class:
              status !== 'connected'
                ? 'fc-ledger fc-mod-stale'
                : isClosedLedger(state.network)
                  ? 'fc-ledger fc-mod-closed'
                  : 'fc-ledger'
          },
          renderTasks(tasks, symbol, decimals, trans),
          renderContributions(tasks, symbol, decimals, trans),
          renderBalances(state.balances, symbol, decimals, trans),
          renderEvents(state.events, model?.lastEvent ?? null, trans)
        )
      );
    }
    this.node.replaceChildren(...children);
    // The DOM is rebuilt on every event: what the user opened or folded stays so.
    for (const details of this.node.querySelectorAll<HTMLDetailsElement>(
      'details[data-key]'
    )) {
      const open = this._folds.get(details.dataset.key!);
      if (open !== undefined) {
        details.open = open;
      }
    }
  }

  /** A click on a foldable section's summary: remember the state it is about to take. */
  private readonly _remember = (event: MouseEvent): void => {
    const summary = (event.target as Element | null)?.closest?.('summary');
    const details = summary?.parentElement;
    if (details instanceof HTMLDetailsElement && details.dataset.key) {
      this._folds.set(details.dataset.key, !details.open);
    }
  };

  private readonly _folds = new Map<string, boolean>();

  private _model: LedgerModel | null = null;
  private _notebookLabel: string | null = null;
  private readonly _trans: TranslationBundle;
}

export namespace LedgerView {
  export interface IOptions {
    trans: TranslationBundle;
  }
}
