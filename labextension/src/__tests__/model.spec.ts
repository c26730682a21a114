import { LedgerModel } from '../model';
import { COMM_TARGET } from '../messages';
import {
  clone,
  errorMessage,
  eventMessage,
  INVALID_MESSAGES,
  snapshotMessage
} from './fixtures';
import { FakeKernel } from './fakeKernel';

const REQUEST = { schema_version: 4, type: 'request_snapshot' };

function connected(kernel = new FakeKernel()) {
  const model = new LedgerModel({ kernel: kernel.asKernel() });
  kernel.lastComm.receive(snapshotMessage());
  return { kernel, model };
}

beforeEach(() => {
  jest.useFakeTimers();
});

afterEach(() => {
  jest.useRealTimers();
});

describe('LedgerModel', () => {
  it('without a kernel, says there is no notebook and opens nothing', () => {
    const model = new LedgerModel({ kernel: null });
    expect(model.status).toBe('no-notebook');
    expect(model.state).toBeNull();
    model.retry();
    expect(model.status).toBe('no-notebook');
  });

  it('opens a fedchain.ledger comm with a snapshot request', () => {
    const kernel = new FakeKernel();
    const model = new LedgerModel({ kernel: kernel.asKernel() });
    expect(kernel.comms).toHaveLength(1);
    expect(kernel.lastComm.targetName).toBe(COMM_TARGET);
    expect(kernel.lastComm.openData).toEqual([REQUEST]);
    expect(model.status).toBe('connecting');
  });

  it('takes the state from a snapshot and signals the change', () => {
    const kernel = new FakeKernel();
    const model = new LedgerModel({ kernel: kernel.asKernel() });
    const seen: string[] = [];
    model.stateChanged.connect(() => seen.push(model.status));
    kernel.lastComm.receive(snapshotMessage());
    expect(model.status).toBe('connected');
    expect(model.state).toEqual(snapshotMessage().state);
    expect(model.problem).toBeNull();
    expect(model.lastEvent).toBeNull();
    expect(seen).toEqual(['connected']);
  });

  it('replaces the whole state on each event and remembers the event', () => {
    const { kernel, model } = connected();
    const message = eventMessage();
    kernel.lastComm.receive(message);
    expect(model.status).toBe('connected');
    expect(model.state).toEqual(message.state);
    expect(model.lastEvent).toEqual(message.event);
    expect(model.state!.network.block_number).toBe(16);
  });

  it('shows not-loaded at once when the kernel closes the comm (no target)', () => {
    const kernel = new FakeKernel();
    const model = new LedgerModel({ kernel: kernel.asKernel() });
    kernel.lastComm.closeFromKernel();
    expect(model.status).toBe('not-loaded');
    expect(model.problem).toBeNull();
  });

  it('retries after a cell ran, and connects once the extension is loaded', () => {
    const kernel = new FakeKernel();
    const model = new LedgerModel({ kernel: kernel.asKernel() });
    kernel.lastComm.closeFromKernel();
    kernel.finishCommOpen(); // the idle after our own comm_open: no retry
    expect(kernel.comms).toHaveLength(1);
    kernel.finishExecution(); // the user ran %load_ext fedchain_magics
    expect(kernel.comms).toHaveLength(2);
    expect(model.status).toBe('connecting');
    kernel.lastComm.receive(snapshotMessage());
    expect(model.status).toBe('connected');
    kernel.finishExecution();
    expect(kernel.comms).toHaveLength(2);
  });

  it('shows not-loaded when no snapshot comes within 3 s, and still takes a late one', () => {
    const kernel = new FakeKernel();
    const model = new LedgerModel({ kernel: kernel.asKernel() });
    jest.advanceTimersByTime(2999);
    expect(model.status).toBe('connecting');
    jest.advanceTimersByTime(1);
    expect(model.status).toBe('not-loaded');
    kernel.lastComm.receive(snapshotMessage());
    expect(model.status).toBe('connected');
  });

  it('keeps waiting while the kernel is busy running a cell', () => {
    const kernel = new FakeKernel();
    kernel.status = 'busy';
    const model = new LedgerModel({ kernel: kernel.asKernel() });
    jest.advanceTimersByTime(10000);
    expect(model.status).toBe('connecting');
    expect(kernel.comms).toHaveLength(1);
    kernel.status = 'idle';
    jest.advanceTimersByTime(3000);
    expect(model.status).toBe('not-loaded');
  });

  it('retries on its own with a growing delay, never while the kernel is busy', () => {
    const kernel = new FakeKernel();
    const model = new LedgerModel({
      kernel: kernel.asKernel(),
      retryDelaysMs: [1000, 5000]
    });
    kernel.lastComm.closeFromKernel();
    jest.advanceTimersByTime(999);
    expect(kernel.comms).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(kernel.comms).toHaveLength(2);
    kernel.lastComm.closeFromKernel();
    jest.advanceTimersByTime(4999);
    expect(kernel.comms).toHaveLength(2);
    kernel.status = 'busy';
    jest.advanceTimersByTime(20000);
    expect(kernel.comms).toHaveLength(2);
    kernel.status = 'idle';
    jest.advanceTimersByTime(5000);
    expect(kernel.comms).toHaveLength(3);
    kernel.lastComm.receive(snapshotMessage());
    expect(model.status).toBe('connected');
    jest.advanceTimersByTime(60000);
    expect(kernel.comms).toHaveLength(3);
  });

  it('the user Retry opens a new comm, and the old comm is ignored from then on', () => {
    const kernel = new FakeKernel();
    const model = new LedgerModel({ kernel: kernel.asKernel() });
    const first = kernel.lastComm;
    jest.advanceTimersByTime(3000);
    model.retry();
    expect(kernel.comms).toHaveLength(2);
    expect(first.isDisposed).toBe(true);
    expect(first.closeCalls).toBe(1);
    first.receive(snapshotMessage());
    expect(model.status).toBe('connecting');
  });

  it('while connected, Retry asks for a fresh snapshot on the same comm', () => {
    const { kernel, model } = connected();
    model.retry();
    expect(kernel.comms).toHaveLength(1);
    expect(kernel.lastComm.sent).toEqual([REQUEST]);
  });

  it('reports an incompatible schema version with both versions', () => {
    const kernel = new FakeKernel();
    const model = new LedgerModel({ kernel: kernel.asKernel() });
    const message = { ...clone(snapshotMessage()), schema_version: 1 };
    kernel.lastComm.receive(message);
    expect(model.status).toBe('incompatible');
    expect(model.problem).toEqual({
      kind: 'incompatible',
      kernelSchemaVersion: 1
    });
    expect(model.schemaVersion).toBe(4);
    expect(model.state).toBeNull();
    jest.advanceTimersByTime(60000);
    kernel.finishExecution();
    expect(kernel.comms).toHaveLength(1);
  });

  it.each(INVALID_MESSAGES.map(c => [c.name, c] as const))(
    'turns a malformed message into an error state, never a throw: %s',
    (_name, invalid) => {
      const { kernel, model } = connected();
      const before = model.state;
      expect(() => kernel.lastComm.receive(invalid.data)).not.toThrow();
      expect(model.status).toBe('error');
      expect(model.problem).toEqual({
        kind: 'malformed',
        path: invalid.path,
        detail: expect.any(String)
      });
      expect(model.state).toBe(before);
    }
  );

  it('survives data no JSON parser would produce', () => {
    const strange: unknown[] = [
      () => 1,
      Symbol('x'),
      BigInt(1),
      new Date(0),
      Object.create(null),
      {
        schema_version: 4,
        type: 'snapshot',
        state: {
          get network() {
            throw new Error('boom');
          }
        }
      }
    ];
    for (const data of strange) {
      const { kernel, model } = connected();
      expect(() => kernel.lastComm.receive(data)).not.toThrow();
      expect(model.status).toBe('error');
      expect(model.problem?.kind).toBe('malformed');
    }
  });

  it('recovers from a malformed message with the next valid one', () => {
    const { kernel, model } = connected();
    kernel.lastComm.receive({ schema_version: 4, type: 'snapshot' });
    expect(model.status).toBe('error');
    kernel.lastComm.receive(eventMessage());
    expect(model.status).toBe('connected');
    expect(model.problem).toBeNull();
  });

  it('shows a kernel-side error and keeps the last state', () => {
    const { kernel, model } = connected();
    kernel.lastComm.receive(errorMessage());
    expect(model.status).toBe('error');
    expect(model.problem).toEqual({
      kind: 'kernel-error',
      detail: errorMessage().message
    });
    expect(model.state).toEqual(snapshotMessage().state);
  });

  it('a kernel-side error before any snapshot is an answer, not "not loaded"', () => {
    const kernel = new FakeKernel();
    const model = new LedgerModel({ kernel: kernel.asKernel() });
    kernel.lastComm.receive(errorMessage());
    jest.advanceTimersByTime(10000);
    expect(model.status).toBe('error');
    expect(kernel.comms).toHaveLength(1);
  });

  it('reopens the comm after a kernel restart', () => {
    const { kernel, model } = connected();
    const before = kernel.lastComm;
    kernel.setStatus('restarting');
    expect(model.status).toBe('connecting');
    expect(before.isDisposed).toBe(true);
    expect(before.closeCalls).toBe(0); // the restart drops comms; nothing to send
    kernel.setStatus('starting');
    expect(kernel.comms).toHaveLength(1);
    kernel.setStatus('idle');
    expect(kernel.comms).toHaveLength(2);
    // The restarted kernel has not loaded the extension.
    kernel.lastComm.closeFromKernel();
    expect(model.status).toBe('not-loaded');
  });

  it('says so when the kernel dies', () => {
    const { kernel, model } = connected();
    kernel.setStatus('dead');
    expect(model.status).toBe('error');
    expect(model.problem).toEqual({ kind: 'kernel-dead' });
  });

  it('reports a comm that cannot be created instead of throwing', () => {
    const kernel = new FakeKernel();
    kernel.failCreateComm = new Error('Comm already exists');
    const model = new LedgerModel({ kernel: kernel.asKernel() });
    expect(model.status).toBe('error');
    expect(model.problem).toEqual({
      kind: 'comm-failed',
      detail: 'Error: Comm already exists'
    });
  });

  it('closes its comm and goes quiet when disposed', () => {
    const { kernel, model } = connected();
    let changes = 0;
    model.stateChanged.connect(() => (changes += 1));
    const comm = kernel.lastComm;
    model.dispose();
    expect(model.isDisposed).toBe(true);
    expect(comm.closeCalls).toBe(1);
    expect(comm.isDisposed).toBe(true);
    kernel.finishExecution();
    kernel.setStatus('restarting');
    kernel.setStatus('idle');
    jest.advanceTimersByTime(60000);
    expect(kernel.comms).toHaveLength(1);
    expect(changes).toBe(0);
    model.dispose();
  });
});

describe('LedgerModel and the comm the kernel opens', () => {
  it('registers the comm target and removes it when disposed', () => {
    const kernel = new FakeKernel();
    const model = new LedgerModel({ kernel: kernel.asKernel() });
    expect(kernel.targets.has(COMM_TARGET)).toBe(true);
    model.dispose();
    expect(kernel.targets.has(COMM_TARGET)).toBe(false);
    // Without a sidebar the connection closes what the kernel opens.
    expect(
      kernel.openFromKernel(COMM_TARGET, snapshotMessage()).closeCalls
    ).toBe(1);
  });

  it('connects from the open data of the comm the kernel opens, while cells run', () => {
    const kernel = new FakeKernel();
    const model = new LedgerModel({ kernel: kernel.asKernel() });
    kernel.lastComm.closeFromKernel(); // not loaded yet
    kernel.setStatus('busy'); // Run All: the cells are queued
    expect(model.status).toBe('not-loaded');
    const offered = kernel.openFromKernel(COMM_TARGET, snapshotMessage());
    expect(model.status).toBe('connected');
    expect(model.state).toEqual(snapshotMessage().state);
    const event = eventMessage();
    offered.receive(event);
    expect(model.lastEvent).toEqual(event.event);
    expect(offered.closeCalls).toBe(0);
  });

  it('opens its own comm after a cell and moves to it when it answers', () => {
    const kernel = new FakeKernel();
    const model = new LedgerModel({ kernel: kernel.asKernel() });
    kernel.lastComm.closeFromKernel();
    const offered = kernel.openFromKernel(COMM_TARGET, snapshotMessage());
    const before = kernel.comms.length;
    kernel.finishExecution();
    kernel.finishExecution(); // once only
    expect(kernel.comms).toHaveLength(before + 1);
    const own = kernel.lastComm;
    expect(own.openData).toEqual([REQUEST]);
    expect(model.status).toBe('connected');

    offered.receive(eventMessage()); // still followed until the own comm answers
    expect(model.lastEvent).not.toBeNull();
    own.receive(snapshotMessage());
    expect(offered.closeCalls).toBe(1);
    expect(model.lastEvent).toBeNull();
    model.retry();
    expect(own.sent).toEqual([REQUEST]);
  });

  it('keeps its state when the kernel closes its comm while its own is on the way', () => {
    const kernel = new FakeKernel();
    const model = new LedgerModel({ kernel: kernel.asKernel() });
    kernel.lastComm.closeFromKernel();
    const offered = kernel.openFromKernel(COMM_TARGET, snapshotMessage());
    kernel.finishExecution();
    const own = kernel.lastComm;
    offered.closeFromKernel(); // e.g. another client without the target closed it
    expect(model.status).toBe('connected');
    own.receive(eventMessage());
    expect(model.status).toBe('connected');
    expect(model.lastEvent).not.toBeNull();
  });

  it('says not-loaded when the kernel closes its comm and nothing replaces it', () => {
    const kernel = new FakeKernel();
    const model = new LedgerModel({ kernel: kernel.asKernel() });
    kernel.lastComm.closeFromKernel();
    const offered = kernel.openFromKernel(COMM_TARGET, snapshotMessage());
    offered.closeFromKernel(); // %unload_ext
    expect(model.status).toBe('not-loaded');
  });

  it('a restart drops both comms; the next offer connects again', () => {
    const kernel = new FakeKernel();
    const model = new LedgerModel({ kernel: kernel.asKernel() });
    kernel.lastComm.closeFromKernel();
    kernel.openFromKernel(COMM_TARGET, snapshotMessage());
    kernel.finishExecution();
    kernel.setStatus('restarting');
    expect(model.status).toBe('connecting');
    kernel.setStatus('idle');
    kernel.lastComm.closeFromKernel();
    expect(model.status).toBe('not-loaded');
    kernel.openFromKernel(COMM_TARGET, snapshotMessage());
    expect(model.status).toBe('connected');
  });
});
