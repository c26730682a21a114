import type { TranslationBundle } from '@jupyterlab/translation';

import { INetwork, isClosedLedger, isNoLedger } from '../messages';
import type { LedgerProblem, LedgerStatus } from '../model';
import { h } from './dom';

/** What a notebook user runs to give the kernel the ledger comm target. */
export const LOAD_COMMAND = '%load_ext fedchain_magics';

/** What a notebook user runs to open a ledger once the extension is loaded. */
export const START_COMMAND = '%fedchain start';

/** What fixes a schema mismatch between the kernel side and this sidebar. */
export const UPGRADE_COMMAND =
  'pip install -U fedchain-magics fedchain-labextension';

export interface IStatusOptions {
  status: LedgerStatus;
  problem: LedgerProblem | null;
  network: INetwork | null;
  notebookLabel: string | null;
  schemaVersion: number;
  trans: TranslationBundle;
  onRetry: (() => void) | null;
}

function statusLabel(
  status: LedgerStatus,
  network: INetwork | null,
  trans: TranslationBundle
): string {
  switch (status) {
    case 'no-notebook':
      return trans.__('No notebook');
    case 'connecting':
      return trans.__('Connecting…');
    case 'not-loaded':
      return trans.__('Not loaded');
    case 'connected':
      return network && isClosedLedger(network)
        ? trans.__('Ledger closed')
        : trans.__('Connected');
    case 'incompatible':
      return trans.__('Incompatible');
    case 'error':
      return trans.__('Error');
  }
}

function command(text: string, trans: TranslationBundle): HTMLElement {
  const copy = h(
    'button',
    {
      class: 'fc-copy jp-Button jp-mod-minimal',
      type: 'button',
      title: trans.__('Copy to the clipboard')
    },
    trans.__('Copy')
  );
  copy.addEventListener('click', () => {
    void navigator.clipboard?.writeText(text);
  });
  return h(
    'div',
    { class: 'fc-command' },
    h('code', { class: 'fc-command-text' }, ...unbrokenWords(text)),
    copy
  );
}

function retryButton(onRetry: (() => void) | null, trans: TranslationBundle) {
  if (!onRetry) {
    return null;
  }
  const button = h(
    'button',
    { class: 'fc-retry jp-Button jp-mod-styled jp-mod-accept', type: 'button' },
    trans.__('Retry')
  );
  button.addEventListener('click', () => onRetry());
  return button;
}

function problemText(
  problem: LedgerProblem | null,
  options: IStatusOptions
): string {
  const trans = options.trans;
  switch (problem?.kind) {
    case 'malformed':
      return trans.__(
        'The kernel extension sent a message the sidebar cannot read (%1: %2). The two packages may be out of step; upgrade both with:',
        problem.path || trans.__('message'),
        problem.detail
      );
    case 'kernel-error':
      return trans.__(
        'The kernel extension reported an error: %1',
        problem.detail
      );
    case 'comm-failed':
      return trans.__(
        'Could not open a comm to the kernel: %1',
        problem.detail
      );
    case 'kernel-dead':
      return trans.__(
        'The kernel has died. Restart it from the Kernel menu to follow its ledger again.'
      );
    default:
      return trans.__('Something went wrong while talking to the kernel.');
  }
}

function body(options: IStatusOptions): HTMLElement {
  const { status, problem, trans } = options;
  const notebook = options.notebookLabel;
  switch (status) {
    case 'no-notebook':
      return h(
        'p',
        { class: 'fc-hint' },
        trans.__(
          'Open a notebook with a running kernel to follow its FedChain ledger.'
        )
      );
    case 'connecting':
      return h(
        'p',
        { class: 'fc-hint' },
        trans.__('Asking the kernel of %1 for its ledger…', notebook ?? '')
      );
    case 'not-loaded':
      return h(
        'div',
        { class: 'fc-not-loaded' },
        h(
          'p',
          { class: 'fc-hint' },
          trans.__(
            'The kernel of %1 has not loaded FedChain. Run this in a cell:',
            notebook ?? ''
          )
        ),
        command(LOAD_COMMAND, trans),
        h(
          'p',
          { class: 'fc-hint fc-muted' },
          trans.__('The sidebar connects by itself after the cell runs.')
        ),
        retryButton(options.onRetry, trans)
      );
    case 'incompatible': {
      const version =
        problem?.kind === 'incompatible' ? problem.kernelSchemaVersion : NaN;
      return h(
        'div',
        { class: 'fc-incompatible' },
        h(
          'p',
          { class: 'fc-hint' },
          trans.__(
            'Incompatible kernel extension: schema v%1, the sidebar understands v%2. Upgrade both with:',
            version,
            options.schemaVersion
          )
        ),
        command(UPGRADE_COMMAND, trans),
        h(
          'p',
          { class: 'fc-hint fc-muted' },
          trans.__('Then restart the kernel and reload this page.')
        ),
        retryButton(options.onRetry, trans)
      );
    }
    case 'error':
      return h(
        'div',
        { class: 'fc-error', role: 'alert' },
        h('p', { class: 'fc-hint' }, problemText(problem, options)),
        problem?.kind === 'malformed' ? command(UPGRADE_COMMAND, trans) : null,
        retryButton(options.onRetry, trans)
      );
    case 'connected':
      return networkView(options.network, trans);
  }
}

function networkView(
  network: INetwork | null,
  trans: TranslationBundle
): HTMLElement {
  if (!network) {
    return h('div', { class: 'fc-network' });
  }
  if (isClosedLedger(network)) {
    return h(
      'div',
      { class: 'fc-network fc-closed-ledger', 'data-connected': 'false' },
      h(
        'p',
        { class: 'fc-hint' },
        network.block_number > 0
          ? trans.__(
              'This kernel closed its ledger. Below is the ledger as last read, at block %1. Reopen it with:',
              network.block_number.toLocaleString()
            )
          : trans.__('This kernel closed its ledger. Reopen it with:')
      ),
      command(network.reopen_command!, trans),
      network.name ? facts(network, trans) : null
    );
  }
  if (isNoLedger(network)) {
    return h(
      'div',
      { class: 'fc-network fc-no-ledger', 'data-connected': 'false' },
      h(
        'p',
        { class: 'fc-hint' },
        trans.__('No ledger is open in this kernel yet. Run this in a cell:')
      ),
      command(START_COMMAND, trans)
    );
  }
  return h(
    'div',
    { class: 'fc-network', 'data-connected': String(network.connected) },
    facts(network, trans),
    network.connected
      ? null
      : h(
          'p',
          { class: 'fc-warning', role: 'alert' },
          trans.__(
            'The ledger node does not answer; the figures below may be stale.'
          )
        )
  );
}

/** Text whose words move to the next line whole: `in-process (eth-tester/py-evm)` wraps at the space. */
export function unbrokenWords(text: string): (HTMLElement | string)[] {
  return text
    .split(/\s+/)
    .filter(word => word)
    .flatMap((word, index) => [
      ...(index ? [' '] : []),
      h('span', { class: 'fc-word' }, word)
    ]);
}

function facts(network: INetwork, trans: TranslationBundle): HTMLElement {
  const where = network.embedded
    ? network.ledger_dir
      ? trans.__('embedded, saved in %1', network.ledger_dir)
      : trans.__('embedded, in memory')
    : (network.url ?? trans.__('remote node'));
  return h(
    'dl',
    { class: 'fc-facts' },
    h('dt', {}, trans.__('Network')),
    h('dd', { class: 'fc-network-name' }, ...unbrokenWords(network.name)),
    h('dt', {}, trans.__('Chain id')),
    h('dd', {}, network.chain_id),
    h('dt', {}, trans.__('Block')),
    h(
      'dd',
      { class: 'fc-block-number', 'data-block-number': network.block_number },
      network.block_number.toLocaleString()
    ),
    h('dt', {}, trans.__('Ledger')),
    h('dd', { class: 'fc-ledger-location' }, where)
  );
}

/** The connection header: a status pill and what to do about it. */
export function renderStatus(options: IStatusOptions): HTMLElement {
  const { status, trans } = options;
  return h(
    'section',
    { class: 'fc-connection', 'aria-live': 'polite' },
    h(
      'div',
      { class: 'fc-connection-header' },
      h(
        'span',
        {
          class: 'fc-status',
          'data-status': status,
          'data-ledger':
            options.network && isClosedLedger(options.network)
              ? 'closed'
              : undefined
        },
        statusLabel(status, options.network, trans)
      ),
      options.notebookLabel
        ? h(
            'span',
            { class: 'fc-notebook', title: options.notebookLabel },
            options.notebookLabel
          )
        : null
    ),
    body(options)
  );
}
