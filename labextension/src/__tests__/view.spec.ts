import { LedgerModel } from '../model';
import { LedgerView } from '../views/ledgerView';
import { LOAD_COMMAND, START_COMMAND, UPGRADE_COMMAND } from '../views/status';
import {
  ALICE,
  BOB,
  CAROL,
  VALIDATOR,
  eventMessage,
  noLedgerState,
  sampleState,
  snapshotMessage
} from './fixtures';
import { FakeKernel, trans } from './fakeKernel';

function setup() {
  const kernel = new FakeKernel();
  const model = new LedgerModel({ kernel: kernel.asKernel() });
  const view = new LedgerView({ trans });
  view.setModel(model, 'round.ipynb');
  const $ = (selector: string) =>
    view.node.querySelector<HTMLElement>(selector);
  const $$ = (selector: string) =>
    Array.from(view.node.querySelectorAll<HTMLElement>(selector));
  return { kernel, model, view, $, $$ };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('LedgerView', () => {
  it('without a model asks for a notebook', () => {
    const view = new LedgerView({ trans });
    expect(
      view.node.querySelector('.fc-status')!.getAttribute('data-status')
    ).toBe('no-notebook');
    expect(view.node.textContent).toContain('Open a notebook');
    expect(view.node.querySelector('.fc-retry')).toBeNull();
  });

  it('tells exactly what to run when the kernel has not loaded the extension', () => {
    const { kernel, $ } = setup();
    kernel.lastComm.closeFromKernel();
    expect($('.fc-status')!.dataset.status).toBe('not-loaded');
    expect($('.fc-command-text')!.textContent).toBe(LOAD_COMMAND);
    expect(LOAD_COMMAND).toBe('%load_ext fedchain_magics');
    expect($('.fc-connection')!.textContent).toContain('round.ipynb');
  });

  it('asks for %fedchain start when the kernel has no ledger open', () => {
    const { kernel, $, $$ } = setup();
    kernel.lastComm.receive(snapshotMessage(noLedgerState()));
    expect($('.fc-status')!.dataset.status).toBe('connected');
    expect($('.fc-command-text')!.textContent).toBe(START_COMMAND);
    expect(START_COMMAND).toBe('%fedchain start');
    expect($('.fc-no-ledger')!.textContent).toContain('No ledger is open');
    expect($('.fc-block-number')).toBeNull();
    expect($('.fc-warning')).toBeNull();
    expect($$('.fc-round')).toHaveLength(0);
    expect($$('.fc-balance')).toHaveLength(0);
  });

  it('after %fedchain stop keeps the last ledger on show with the command that reopens it', () => {
    const { kernel, $, $$ } = setup();
    const state = sampleState();
    state.network = {
      ...state.network,
      connected: false,
      reopen_command: '%fedchain start --dir quickstart-ledger'
    };
    kernel.lastComm.receive(snapshotMessage(state));
    expect($('.fc-status')!.dataset.status).toBe('connected');
    expect($('.fc-status')!.dataset.ledger).toBe('closed');
    expect($('.fc-status')!.textContent).toBe('Ledger closed');
    expect($('.fc-command-text')!.textContent).toBe(
      '%fedchain start --dir quickstart-ledger'
    );
    expect($('.fc-closed-ledger')!.textContent).toContain('at block 15');
    expect($('.fc-no-ledger')).toBeNull();
    expect($('.fc-warning')).toBeNull();
    expect($('.fc-mod-closed')).not.toBeNull();
    expect($('.fc-mod-stale')).toBeNull();
    expect($$('.fc-round')).toHaveLength(2);
    expect($$('.fc-balance').length).toBeGreaterThan(0);
  });

  it('keeps a network name whole between its spaces', () => {
    const { kernel, $$ } = setup();
    const state = sampleState();
    state.network = {
      ...state.network,
      name: 'in-process (eth-tester/py-evm)'
    };
    kernel.lastComm.receive(snapshotMessage(state));
    expect($$('.fc-network-name .fc-word').map(s => s.textContent)).toEqual([
      'in-process',
      '(eth-tester/py-evm)'
    ]);
  });

  it('warns when a node stops answering, keeping its figures', () => {
    const { kernel, $ } = setup();
    const state = sampleState();
    state.network = { ...state.network, connected: false };
    kernel.lastComm.receive(snapshotMessage(state));
    expect($('.fc-warning')!.textContent).toContain('does not answer');
    expect($('.fc-block-number')!.dataset.blockNumber).toBe('15');
    expect($('.fc-no-ledger')).toBeNull();
  });

  it('Retry opens a new comm', () => {
    const { kernel, $ } = setup();
    kernel.lastComm.closeFromKernel();
    $('.fc-retry')!.click();
    expect(kernel.comms).toHaveLength(2);
    expect($('.fc-status')!.dataset.status).toBe('connecting');
  });

  it('shows chain status, rounds, contributions, balances and events', () => {
    const { kernel, $, $$ } = setup();
    kernel.lastComm.receive(snapshotMessage());
    expect($('.fc-status')!.dataset.status).toBe('connected');
    expect($('.fc-block-number')!.dataset.blockNumber).toBe('15');
    expect($('.fc-network-name')!.textContent).toBe('eth-tester');

    const round1 = $('.fc-round[data-task-id="1"][data-round="1"]')!;
    expect(round1.dataset.phase).toBe('accepted');
    expect(round1.dataset.commitCount).toBe('3');
    expect(round1.dataset.acceptVotes).toBe('2');
    expect(round1.dataset.verified).toBe('true');
    expect(round1.querySelector('.fc-commits')!.textContent).toBe(
      '3 of 2 updates'
    );
    expect(round1.querySelector('.fc-verified-mark')!.textContent).toBe('✓');
    const round2 = $('.fc-round[data-round="2"]')!;
    expect(round2.dataset.phase).toBe('collecting');
    expect(round2.dataset.verified).toBe('pending');
    // Newest round first.
    expect($$('.fc-round').map(r => r.dataset.round)).toEqual(['2', '1']);

    const rows = $$('.fc-contribution');
    // Samples: what each party holds (its latest update); the bars stack sample-rounds.
    expect(
      rows.map(r => [
        r.dataset.participant,
        r.dataset.samples,
        r.dataset.sampleRounds,
        r.dataset.rounds
      ])
    ).toEqual([
      [ALICE, '350', '650', '2'],
      [BOB, '400', '400', '1'],
      [CAROL, '200', '200', '1']
    ]);
    expect(rows[0].children[1].textContent).toBe('350');
    expect($('.fc-chart-caption')!.textContent).toBe(
      'Samples committed per round, stacked'
    );
    expect(
      $$('.fc-legend-item').map(item => [item.dataset.round, item.textContent])
    ).toEqual([
      ['1', 'Round 1'],
      ['2', 'Round 2']
    ]);
    // A round has one colour in every bar and in the legend.
    const round2Colour = $('.fc-legend-item[data-round="2"] .fc-legend-swatch')!
      .classList[1];
    expect(
      $$('.fc-chart rect[data-round="2"]').every(rect =>
        rect.classList.contains(round2Colour)
      )
    ).toBe(true);
    expect(rows[0].dataset.reward).toBe('33333333333333333333');
    expect($$('.fc-chart .fc-chart-bar')).toHaveLength(3);
    expect(
      $$('.fc-chart-bar[data-participant="' + ALICE + '"] rect')
    ).toHaveLength(2);

    const balances = $$('.fc-balance');
    expect(balances.map(b => [b.dataset.account, b.dataset.balance])).toEqual([
      [BOB, '44444444444444444444'],
      [ALICE, '33333333333333333333'],
      [CAROL, '22222222222222222222'],
      [VALIDATOR, '0']
    ]);
    expect(balances[0].querySelector('.fc-balance-amount')!.textContent).toBe(
      '44.4444 FCT'
    );
    expect(
      (balances[0].querySelector('.fc-balance-fill') as HTMLElement).style.width
    ).toBe('100%');

    const events = $$('.fc-event');
    expect(events.map(e => e.dataset.kind)).toEqual([
      'block',
      'round_finalized',
      'update_committed',
      'round_opened',
      'task_created'
    ]);
    expect($('.fc-mod-latest')).toBeNull();
  });

  it('shows every token amount with the one rounding rule (half up, 4 digits)', () => {
    const { kernel, $ } = setup();
    const state = sampleState();
    // 234.74175 tokens: the notebook rounds it to 234.7418, so must the sidebar.
    state.tasks[0].reward_per_round = '234741750000000000000';
    state.tasks[0].rounds[0].contributions[0].reward = '234741750000000000000';
    state.tasks[0].rounds[1].contributions = [];
    state.balances[1].balance = '234741750000000000000';
    state.balances[1].balance_tokens = 234.74175;
    kernel.lastComm.receive(snapshotMessage(state));
    expect(
      $('[data-reward-per-round]')!.textContent!.startsWith('234.7418 FCT')
    ).toBe(true);
    const row = $(`.fc-contribution[data-participant="${ALICE}"]`)!;
    expect(row.lastElementChild!.textContent).toBe('234.7418');
    const balance = $(`.fc-balance[data-account="${ALICE}"]`)!;
    expect(balance.querySelector('.fc-balance-amount')!.textContent).toBe(
      '234.7418 FCT'
    );
  });

  it('re-renders on each event and marks the newest', () => {
    const { kernel, $ } = setup();
    kernel.lastComm.receive(snapshotMessage());
    kernel.lastComm.receive(eventMessage());
    expect($('.fc-block-number')!.dataset.blockNumber).toBe('16');
    expect($('.fc-event.fc-mod-latest')!.dataset.kind).toBe('vote_cast');
    expect($('.fc-round[data-round="2"]')!.dataset.acceptVotes).toBe('1');
  });

  it('keeps kernel strings as text, never HTML', () => {
    const { kernel, $ } = setup();
    const message = snapshotMessage();
    message.state.events[0].summary = '<img src=x onerror=alert(1)>';
    kernel.lastComm.receive(message);
    expect($('.fc-events img')).toBeNull();
    expect($('.fc-events')!.textContent).toContain(
      '<img src=x onerror=alert(1)>'
    );
  });

  it('explains an incompatible kernel extension and how to upgrade', () => {
    const { kernel, $ } = setup();
    kernel.lastComm.receive({ ...snapshotMessage(), schema_version: 5 });
    expect($('.fc-status')!.dataset.status).toBe('incompatible');
    expect($('.fc-connection')!.textContent).toContain(
      'Incompatible kernel extension: schema v5, the sidebar understands v4'
    );
    expect($('.fc-command-text')!.textContent).toBe(UPGRADE_COMMAND);
  });

  it('names the field of a malformed message and dims the last good state', () => {
    const { kernel, $ } = setup();
    kernel.lastComm.receive(snapshotMessage());
    const bad: any = snapshotMessage();
    bad.state.tasks[0].rounds[0].phase = 'voting';
    kernel.lastComm.receive(bad);
    expect($('.fc-status')!.dataset.status).toBe('error');
    expect($('.fc-error')!.textContent).toContain(
      'state.tasks[0].rounds[0].phase'
    );
    expect($('.fc-ledger.fc-mod-stale')).not.toBeNull();
  });

  it('stops rendering a model it no longer shows', () => {
    const { kernel, model, view, $ } = setup();
    view.setModel(null, null);
    kernel.lastComm.receive(snapshotMessage());
    expect(model.status).toBe('connected');
    expect($('.fc-status')!.dataset.status).toBe('no-notebook');
    view.dispose();
  });
});
