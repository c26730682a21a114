import type { Kernel, KernelMessage } from '@jupyterlab/services';
import type { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import {
  COMM_TARGET,
  ILedgerEvent,
  ILedgerState,
  parseKernelMessage,
  requestSnapshotMessage,
  SCHEMA_VERSION
} from './messages';

/**
 * Where the sidebar stands with one kernel.
 *
 * - `no-notebook`: there is no notebook (or its kernel is not running).
 * - `connecting`: the comm is open and the first snapshot has not arrived yet.
 * - `not-loaded`: the kernel has no `fedchain.ledger` comm target: run `%load_ext fedchain_magics`.
 * - `connected`: a valid snapshot arrived; `state` is current.
 * - `incompatible`: the kernel extension speaks another schema version.
 * - `error`: the kernel reported an error, sent a malformed message, or the comm failed.
 */
export type LedgerStatus =
  | 'no-notebook'
  | 'connecting'
  | 'not-loaded'
  | 'connected'
  | 'incompatible'
  | 'error';

/** Why the model is in the `incompatible` or `error` status (worded by the view). */
export type LedgerProblem =
  | { readonly kind: 'incompatible'; readonly kernelSchemaVersion: number }
  | {
      readonly kind: 'malformed';
      readonly path: string;
      readonly detail: string;
    }
  | { readonly kind: 'kernel-error'; readonly detail: string }
  | { readonly kind: 'comm-failed'; readonly detail: string }
  | { readonly kind: 'kernel-dead' };

/** The part of a kernel connection the model uses (a fake one in the tests). */
export type LedgerKernel = Pick<
  Kernel.IKernelConnection,
  | 'createComm'
  | 'registerCommTarget'
  | 'removeCommTarget'
  | 'iopubMessage'
  | 'statusChanged'
  | 'status'
  | 'isDisposed'
>;

/**
 * Owns the `fedchain.ledger` comm to one kernel: opens it, reads and checks
 * every message, reopens it when the kernel may have gained the target (after
 * a cell ran, after a restart, and on a backing-off timer), and tells its
 * listeners through `stateChanged`.
 *
 * It also takes the comm the kernel opens when `%load_ext fedchain_magics`
 * runs (the `fedchain.ledger` comm target on this kernel connection): the
 * kernel's messages on it travel on IOPub, so they arrive while cells wait in
 * the queue (Run All), where a comm this side opens waits behind them. Once a
 * cell ends, the model opens its own comm as well and moves to it when it
 * answers: another client without the target (a console on the same kernel)
 * closes the kernel's comm for everyone.
 */
export class LedgerModel implements IDisposable {
  constructor(options: LedgerModel.IOptions) {
    this._kernel = options.kernel;
    this._snapshotTimeoutMs = options.snapshotTimeoutMs ?? 3000;
    this._retryDelaysMs = options.retryDelaysMs ?? [2000, 4000, 8000, 15000];
    if (!this._kernel) {
      return;
    }
    this._kernel.statusChanged.connect(this._onKernelStatus, this);
    this._kernel.iopubMessage.connect(this._onIOPub, this);
    this._kernel.registerCommTarget(COMM_TARGET, this._onKernelComm);
    this._open();
  }

  /** Emitted whenever `status`, `state`, `problem` or `lastEvent` changes. */
  get stateChanged(): ISignal<LedgerModel, void> {
    return this._stateChanged;
  }

  get status(): LedgerStatus {
    return this._status;
  }

  /** The last valid state the kernel sent (kept through errors), or null. */
  get state(): ILedgerState | null {
    return this._state;
  }

  /** The event that produced the current state, if it came from an event message. */
  get lastEvent(): ILedgerEvent | null {
    return this._lastEvent;
  }

  get problem(): LedgerProblem | null {
    return this._problem;
  }

  /** The schema version this sidebar understands. */
  get schemaVersion(): number {
    return SCHEMA_VERSION;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Ask again: while connected, request a fresh snapshot on the open comm;
   * otherwise open a new comm (the kernel may have loaded the extension).
   */
  retry(): void {
    if (this._isDisposed || !this._kernel) {
      return;
    }
    if (this._status === 'connected' && this._comm && !this._comm.isDisposed) {
      this._send(requestSnapshotMessage());
      return;
    }
    this._open();
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._clearTimers();
    this._closeComm(true);
    this._closePending(true);
    const kernel = this._kernel;
    if (kernel && !kernel.isDisposed) {
      kernel.removeCommTarget(COMM_TARGET, this._onKernelComm);
    }
    Signal.clearData(this);
  }

  /** The kernel opened a comm (`%load_ext`): take it, its open data is a snapshot. */
  private readonly _onKernelComm = (
    comm: Kernel.IComm,
    msg: KernelMessage.ICommOpenMsg
  ): void => {
    if (this._isDisposed) {
      comm.close();
      return;
    }
    this._clearTimers();
    this._closeComm(true);
    this._closePending(true);
    this._restarting = false;
    this._comm = comm;
    this._commOfferedByKernel = true;
    comm.onMsg = message => this._onCommMsg(comm, message);
    comm.onClose = () => this._onCommClose(comm);
    this._kernelAnswered = false;
    this._onCommMsg(comm, msg as unknown as KernelMessage.ICommMsgMsg);
  };

  /**
   * Open a comm of this side's own beside the kernel's, and move to it when it
   * answers (see the class comment).
   */
  private _openOwnBeside(): void {
    const kernel = this._kernel;
    if (!kernel || this._pendingComm || kernel.isDisposed) {
      return;
    }
    let comm: Kernel.IComm;
    try {
      comm = kernel.createComm(COMM_TARGET);
      comm.onMsg = msg => {
        if (comm !== this._pendingComm) {
          return;
        }
        this._pendingComm = null;
        this._closeComm(true);
        this._comm = comm;
        this._commOfferedByKernel = false;
        comm.onMsg = message => this._onCommMsg(comm, message);
        comm.onClose = () => this._onCommClose(comm);
        this._onCommMsg(comm, msg);
      };
      comm.onClose = () => {
        if (comm === this._pendingComm) {
          this._pendingComm = null;
        }
      };
      comm.open(requestSnapshotMessage() as any).done.catch(() => undefined);
    } catch {
      return; // the kernel's comm still works
    }
    this._pendingComm = comm;
  }

  private _open(): void {
    const kernel = this._kernel!;
    this._clearTimers();
    this._closeComm(true);
    this._closePending(true);
    if (kernel.isDisposed || kernel.status === 'dead') {
      this._set('error', { kind: 'kernel-dead' });
      return;
    }
    let comm: Kernel.IComm;
    try {
      comm = kernel.createComm(COMM_TARGET);
      comm.onMsg = msg => this._onCommMsg(comm, msg);
      comm.onClose = () => this._onCommClose(comm);
      const future = comm.open(requestSnapshotMessage() as any);
      // A restart cancels the open's future; that is handled through the kernel status.
      future.done.catch(() => undefined);
    } catch (error) {
      this._set('error', { kind: 'comm-failed', detail: String(error) });
      this._scheduleRetry();
      return;
    }
    this._comm = comm;
    this._commOfferedByKernel = false;
    this._kernelAnswered = false;
    this._set('connecting', null);
    this._snapshotTimer = setTimeout(
      () => this._onSnapshotTimeout(),
      this._snapshotTimeoutMs
    );
  }

  private _onCommMsg(comm: Kernel.IComm, msg: KernelMessage.ICommMsgMsg): void {
    if (this._isDisposed || comm !== this._comm) {
      return;
    }
    // Any answer, even a bad one, shows the kernel has the target.
    this._kernelAnswered = true;
    this._clearTimers();
    const result = parseKernelMessage(msg.content.data);
    switch (result.kind) {
      case 'message': {
        const message = result.message;
        if (message.type === 'error') {
          this._set('error', { kind: 'kernel-error', detail: message.message });
          return;
        }
        this._retryAttempt = 0;
        this._state = message.state;
        this._lastEvent = message.type === 'event' ? message.event : null;
        this._set('connected', null);
        return;
      }
      case 'incompatible':
        this._set('incompatible', {
          kind: 'incompatible',
          kernelSchemaVersion: result.schemaVersion
        });
        return;
      case 'malformed':
        this._set('error', {
          kind: 'malformed',
          path: result.path,
          detail: result.problem
        });
        return;
    }
  }

  /** The kernel closed the comm: it has no such target, or it unloaded the extension. */
  private _onCommClose(comm: Kernel.IComm): void {
    if (this._isDisposed || comm !== this._comm) {
      return;
    }
    this._comm = null;
    if (this._commOfferedByKernel && this._pendingComm) {
      return; // this side's own comm takes over when it answers
    }
    this._clearTimers();
    this._set('not-loaded', null);
    this._scheduleRetry();
  }

  private _onSnapshotTimeout(): void {
    this._snapshotTimer = null;
    if (this._isDisposed || this._kernelAnswered) {
      return;
    }
    if (this._kernel?.status === 'busy') {
      // The comm_open waits behind a running cell: keep waiting.
      this._snapshotTimer = setTimeout(
        () => this._onSnapshotTimeout(),
        this._snapshotTimeoutMs
      );
      return;
    }
    // Keep the comm: a snapshot that arrives late still connects.
    this._set('not-loaded', null);
    this._scheduleRetry();
  }

  /** Retry after each cell execution: the cell may have been `%load_ext fedchain_magics`. */
  private _onIOPub(kernel: unknown, msg: KernelMessage.IIOPubMessage): void {
    if (
      msg.header.msg_type !== 'status' ||
      (msg as KernelMessage.IStatusMsg).content.execution_state !== 'idle' ||
      (msg.parent_header as Partial<KernelMessage.IHeader>).msg_type !==
        'execute_request'
    ) {
      return;
    }
    if (this._shouldRetry()) {
      this._open();
    } else if (this._commOfferedByKernel && this._comm && !this._isDisposed) {
      this._openOwnBeside();
    }
  }

  private _onKernelStatus(kernel: unknown, status: Kernel.Status): void {
    if (this._isDisposed) {
      return;
    }
    switch (status) {
      case 'restarting':
      case 'autorestarting':
        // The kernel connection disposes its comms right after this signal;
        // the restarted kernel has not loaded the extension yet.
        this._clearTimers();
        this._closeComm(false);
        this._closePending(false);
        this._restarting = true;
        this._set('connecting', null);
        return;
      case 'dead':
        this._clearTimers();
        this._closeComm(false);
        this._closePending(false);
        this._set('error', { kind: 'kernel-dead' });
        return;
      case 'idle':
        if (this._restarting) {
          this._restarting = false;
          this._open();
        }
        return;
      default:
        return;
    }
  }

  private _shouldRetry(): boolean {
    if (this._isDisposed || this._restarting) {
      return false;
    }
    return (
      this._status === 'not-loaded' ||
      (this._status === 'error' && this._comm === null)
    );
  }

  private _scheduleRetry(): void {
    if (this._retryTimer !== null || this._retryDelaysMs.length === 0) {
      return;
    }
    const delays = this._retryDelaysMs;
    const delay = delays[Math.min(this._retryAttempt, delays.length - 1)];
    this._retryAttempt += 1;
    this._retryTimer = setTimeout(() => {
      this._retryTimer = null;
      if (!this._shouldRetry()) {
        return;
      }
      if (this._kernel?.status !== 'idle') {
        // Do not queue comm_opens behind a running cell.
        this._scheduleRetry();
        return;
      }
      this._open();
    }, delay);
  }

  private _send(message: object): void {
    try {
      this._comm?.send(message as any);
    } catch (error) {
      this._set('error', { kind: 'comm-failed', detail: String(error) });
    }
  }

  private _closePending(notifyKernel: boolean): void {
    const pending = this._pendingComm;
    this._pendingComm = null;
    this._disposeComm(pending, notifyKernel);
  }

  private _closeComm(notifyKernel: boolean): void {
    const comm = this._comm;
    this._comm = null;
    this._commOfferedByKernel = false;
    this._disposeComm(comm, notifyKernel);
  }

  private _disposeComm(comm: Kernel.IComm | null, notifyKernel: boolean): void {
    if (!comm || comm.isDisposed) {
      return;
    }
    comm.onMsg = () => undefined;
    comm.onClose = () => undefined;
    const kernel = this._kernel;
    if (
      notifyKernel &&
      kernel &&
      !kernel.isDisposed &&
      kernel.status !== 'dead'
    ) {
      try {
        comm.close();
      } catch {
        // The kernel went away meanwhile: nothing to tell it.
      }
    }
    if (!comm.isDisposed) {
      comm.dispose();
    }
  }

  private _clearTimers(): void {
    if (this._snapshotTimer !== null) {
      clearTimeout(this._snapshotTimer);
      this._snapshotTimer = null;
    }
    if (this._retryTimer !== null) {
      clearTimeout(this._retryTimer);
      this._retryTimer = null;
    }
  }

  private _set(status: LedgerStatus, problem: LedgerProblem | null): void {
    this._status = status;
    this._problem = problem;
    this._stateChanged.emit();
  }

  private readonly _kernel: LedgerKernel | null;
  private readonly _snapshotTimeoutMs: number;
  private readonly _retryDelaysMs: readonly number[];
  private _comm: Kernel.IComm | null = null;
  /** Whether `_comm` is the one the kernel opened (not this side's own). */
  private _commOfferedByKernel = false;
  /** This side's own comm, opened beside the kernel's until it answers. */
  private _pendingComm: Kernel.IComm | null = null;
  private _status: LedgerStatus = 'no-notebook';
  private _state: ILedgerState | null = null;
  private _lastEvent: ILedgerEvent | null = null;
  private _problem: LedgerProblem | null = null;
  private _kernelAnswered = false;
  private _restarting = false;
  private _retryAttempt = 0;
  private _snapshotTimer: ReturnType<typeof setTimeout> | null = null;
  private _retryTimer: ReturnType<typeof setTimeout> | null = null;
  private _isDisposed = false;
  private readonly _stateChanged = new Signal<LedgerModel, void>(this);
}

export namespace LedgerModel {
  export interface IOptions {
    /** The kernel to follow; null when there is no notebook or no running kernel. */
    kernel: LedgerKernel | null;
    /** How long to wait for the first snapshot before showing `not-loaded` (default 3000). */
    snapshotTimeoutMs?: number;
    /** Delays between automatic reopen attempts while not loaded, backing off (the last repeats). */
    retryDelaysMs?: number[];
  }
}
