import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

// The sidebar tab is added to the shell at activation, so the panel is needed at once.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { LedgerPanel } from './panel';

/** The command that shows the sidebar. */
const OPEN_COMMAND = 'fedchain-labextension:open';

/**
 * The FedChain ledger sidebar: a left-area panel that follows the active
 * notebook's kernel through the `fedchain.ledger` comm.
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: 'fedchain-labextension:plugin',
  description:
    "A sidebar that follows the active notebook's FedChain ledger: chain status, rounds, contributions, rewards and events.",
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ILayoutRestorer, ITranslator, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    restorer: ILayoutRestorer | null,
    translator: ITranslator | null,
    palette: ICommandPalette | null
  ) => {
    const trans = (translator ?? nullTranslator).load('fedchain_labextension');
    const panel = new LedgerPanel({ tracker, translator });
    app.shell.add(panel, 'left', { rank: 600 });
    restorer?.add(panel, panel.id);

    app.commands.addCommand(OPEN_COMMAND, {
      label: trans.__('Show FedChain Ledger'),
      caption: trans.__(
        "Show the active notebook's FedChain ledger in the sidebar"
      ),
      describedBy: { args: { type: 'object', properties: {} } },
      execute: () => app.shell.activateById(panel.id)
    });
    palette?.addItem({ command: OPEN_COMMAND, category: trans.__('FedChain') });
  }
};

export default plugin;
