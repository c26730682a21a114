/** A stand-in for the bits of a JupyterLab kernel connection that LedgerModel uses. */
import type { Kernel } from '@jupyterlab/services';
import { Signal } from '@lumino/signaling';

import type { LedgerKernel } from '../model';

export class FakeComm {
  constructor(
    readonly targetName: string,
    readonly commId: string
  ) {}

  onMsg: (msg: any) => void = () => undefined;
  onClose: (msg: any) => void = () => undefined;
  isDisposed = false;
  openData: unknown[] = [];
  sent: unknown[] = [];
  closeCalls = 0;

  open(data?: unknown) {
    this.openData.push(data);
    return { done: Promise.resolve() };
  }

  send(data: unknown) {
    this.sent.push(data);
    return { done: Promise.resolve() };
  }

  /** Like the real CommHandler: tells the kernel, runs onClose locally, disposes. */
  close() {
    if (this.isDisposed) {
      throw new Error('Cannot close');
    }
    this.closeCalls += 1;
    this.onClose({ content: { comm_id: this.commId, data: {} } });
    this.dispose();
    return { done: Promise.resolve() };
  }

  dispose() {
    this.isDisposed = true;
  }

  /** The kernel sends `data` on this comm. */
  receive(data: unknown): void {
    this.onMsg({ content: { comm_id: this.commId, data } });
  }

  /** The kernel closes this comm (no such target, or the extension was unloaded). */
  closeFromKernel(): void {
    this.onClose({ content: { comm_id: this.commId, data: {} } });
    this.dispose();
  }
}

export class FakeKernel {
  status: Kernel.Status = 'idle';
  isDisposed = false;
  comms: FakeComm[] = [];
  failCreateComm: Error | null = null;
  readonly statusChanged = new Signal<this, Kernel.Status>(this);
  readonly iopubMessage = new Signal<this, any>(this);

  targets = new Map<string, (comm: any, msg: any) => void>();

  registerCommTarget(
    targetName: string,
    callback: (comm: any, msg: any) => void
  ): void {
    this.targets.set(targetName, callback);
  }

  removeCommTarget(
    targetName: string,
    callback: (comm: any, msg: any) => void
  ): void {
    if (this.targets.get(targetName) === callback) {
      this.targets.delete(targetName);
    }
  }

  /**
   * The kernel opens a comm (`%load_ext`), with `data` as its open data. Like
   * JupyterLab, a connection without the target closes it at once.
   */
  openFromKernel(targetName: string, data: unknown): FakeComm {
    const comm = new FakeComm(
      targetName,
      `kernel-comm-${this.offered.length + 1}`
    );
    this.offered.push(comm);
    const target = this.targets.get(targetName);
    if (!target) {
      comm.close();
      return comm;
    }
    target(comm, {
      header: { msg_type: 'comm_open' },
      content: { comm_id: comm.commId, target_name: targetName, data }
    });
    return comm;
  }

  offered: FakeComm[] = [];

  createComm(targetName: string): FakeComm {
    if (this.failCreateComm) {
      throw this.failCreateComm;
    }
    const comm = new FakeComm(targetName, `comm-${this.comms.length + 1}`);
    this.comms.push(comm);
    return comm;
  }

  get lastComm(): FakeComm {
    return this.comms[this.comms.length - 1];
  }

  setStatus(status: Kernel.Status): void {
    this.status = status;
    this.statusChanged.emit(status);
  }

  /** What ipykernel publishes when a cell finished running. */
  finishExecution(): void {
    this.iopubMessage.emit({
      header: { msg_type: 'status' },
      parent_header: { msg_type: 'execute_request' },
      content: { execution_state: 'idle' }
    });
  }

  /** The idle that follows a comm_open (which must not trigger a retry). */
  finishCommOpen(): void {
    this.iopubMessage.emit({
      header: { msg_type: 'status' },
      parent_header: { msg_type: 'comm_open' },
      content: { execution_state: 'idle' }
    });
  }

  asKernel(): LedgerKernel {
    return this as unknown as LedgerKernel;
  }
}

/** A translation bundle that substitutes %1, %2, … like JupyterLab's. */
export const trans: any = {
  __: (msgid: string, ...args: unknown[]) =>
    msgid.replace(/%(\d+)/g, (_m, index) => String(args[Number(index) - 1])),
  _n: (singular: string, plural: string, n: number, ...args: unknown[]) =>
    (n === 1 ? singular : plural).replace(/%(\d+)/g, (_m, index) =>
      String([n, ...args][Number(index) - 1])
    ),
  _p: (_context: string, msgid: string) => msgid
};
