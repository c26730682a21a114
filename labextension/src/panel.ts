import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import type { Kernel } from '@jupyterlab/services';
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import { Message } from '@lumino/messaging';
import { Panel } from '@lumino/widgets';

import { ledgerIcon } from './icon';
import { LedgerModel } from './model';
import { LedgerView } from './views/ledgerView';

/** The sidebar's widget id (also the `data-id` of its tab in the left side bar). */
export const LEDGER_PANEL_ID = 'fedchain-ledger';

/**
 * How long the panel stays connected after it is hidden: JupyterLab hides and
 * shows the whole shell on a theme change, which must not reopen the comm.
 */
const HIDDEN_GRACE_MS = 5000;

/**
 * The left sidebar panel. It follows the active notebook: one LedgerModel per
 * kernel, replaced when another notebook becomes current or the notebook's
 * kernel changes, and disposed (closing its comm) a few seconds after the
 * panel is hidden, so a collapsed sidebar sends nothing to any kernel. Kernel restarts are
 * handled by the model itself (the kernel connection stays the same object).
 */
export class LedgerPanel extends Panel {
  constructor(options: LedgerPanel.IOptions) {
    super();
    this._tracker = options.tracker;
    this._trans = (options.translator ?? nullTranslator).load(
      'fedchain_labextension'
    );
    this.id = LEDGER_PANEL_ID;
    this.addClass('fc-panel');
    this.title.icon = ledgerIcon;
    this.title.caption = this._trans.__('FedChain ledger');
    this._view = new LedgerView({ trans: this._trans });
    this.addWidget(this._view);
    this._tracker.currentChanged.connect(this._onCurrentChanged, this);
    this._follow(this._tracker.currentWidget);
  }

  /** The model for the followed notebook's kernel (null while hidden or without a notebook). */
  get model(): LedgerModel | null {
    return this._model;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._tracker.currentChanged.disconnect(this._onCurrentChanged, this);
    this._clearHideTimer();
    this._follow(null);
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._clearHideTimer();
    this._refresh();
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._clearHideTimer();
    this._hideTimer = setTimeout(() => {
      this._hideTimer = null;
      this._refresh();
    }, HIDDEN_GRACE_MS);
  }

  private _clearHideTimer(): void {
    if (this._hideTimer !== null) {
      clearTimeout(this._hideTimer);
      this._hideTimer = null;
    }
  }

  private _onCurrentChanged(
    tracker: INotebookTracker,
    notebook: NotebookPanel | null
  ): void {
    this._follow(notebook);
  }

  private _follow(notebook: NotebookPanel | null): void {
    if (this._notebook === notebook && notebook !== null) {
      return;
    }
    this._notebook?.sessionContext.kernelChanged.disconnect(
      this._refresh,
      this
    );
    this._notebook = notebook;
    notebook?.sessionContext.kernelChanged.connect(this._refresh, this);
    this._refresh();
  }

  /** Make the model match (visible, notebook, kernel); a no-op when they have not changed. */
  private _refresh(): void {
    const active =
      !this.isDisposed && (this.isVisible || this._hideTimer !== null);
    const notebook = active ? this._notebook : null;
    const kernel: Kernel.IKernelConnection | null =
      notebook?.sessionContext.session?.kernel ?? null;
    if (
      notebook === this._modelNotebook &&
      kernel === this._modelKernel &&
      (this._model !== null) === (notebook !== null)
    ) {
      return;
    }
    this._model?.dispose();
    this._model = notebook ? new LedgerModel({ kernel }) : null;
    this._modelNotebook = notebook;
    this._modelKernel = kernel;
    if (!this.isDisposed) {
      this._view.setModel(
        this._model,
        notebook ? notebook.title.label || notebook.context.path : null
      );
    }
  }

  private readonly _tracker: INotebookTracker;
  private readonly _trans: TranslationBundle;
  private readonly _view: LedgerView;
  private _notebook: NotebookPanel | null = null;
  private _model: LedgerModel | null = null;
  private _modelNotebook: NotebookPanel | null = null;
  private _modelKernel: Kernel.IKernelConnection | null = null;
  private _hideTimer: ReturnType<typeof setTimeout> | null = null;
}

export namespace LedgerPanel {
  export interface IOptions {
    tracker: INotebookTracker;
    translator?: ITranslator | null;
  }
}
