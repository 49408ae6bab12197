// A server-wide bound on response bytes written to grpc-js but not yet handed to the socket. Rule S12 bounds what
// one stream holds (one pending response per type); this bounds what the process holds when thousands of streams
// are due a response at once (a connect storm, a push of every type). Streams that find the budget spent wait in
// a round-robin queue and take their response from the cache only when it is their turn, so a waiting stream
// still coalesces newer snapshots into one response.
import { Code, XdsError } from '@xds/api';

/** A stream that can wait for the budget. */
export interface BudgetWaiter {
  readonly ended: boolean;
  /** Called when it is the waiter's turn: it writes what it has, asking {@link WriteBudget.admit} again. */
  resume(): void;
}

/** One write whose bytes count against the budget until grpc-js calls back (or it is written off as stalled). */
export interface InFlightWrite {
  readonly bytes: number;
  readonly at: number;
  done: boolean;
}

/** What {@link WriteBudget.stats} reports. */
export interface WriteBudgetStats {
  /** The bound (bytes); Infinity when unbounded. */
  readonly limitBytes: number;
  /** Bytes written and not yet flushed. */
  readonly inFlightBytes: number;
  /** The most bytes in flight at once since the server started. */
  readonly peakInFlightBytes: number;
  /** Streams waiting for their turn now. */
  readonly waitingStreams: number;
  /** How many times a stream had to wait. */
  readonly waits: number;
  /** Writes not flushed within `stallMs` (a client that stopped reading), no longer counted against the budget. */
  readonly stalledWrites: number;
}

/** Options of the write budget, see `XdsServerOptions.writeBudget`. */
export interface WriteBudgetOptions {
  /** The most response bytes in flight across all streams; default 64 MiB; Infinity for no bound. */
  readonly maxBytesInFlight?: number;
  /**
   * A write not flushed after this long (ms) stops counting against the budget, so a client that stopped reading
   * cannot hold up the others; default 5 s.
   */
  readonly stallMs?: number;
}

export class WriteBudget {
  readonly limit: number;
  readonly stallMs: number;
  #inFlight = 0;
  #peak = 0;
  #waits = 0;
  #stalled = 0;
  /** In the order written, which is the order in which they may stall. */
  readonly #writes = new Set<InFlightWrite>();
  readonly #waiting = new Set<BudgetWaiter>();
  #resuming: BudgetWaiter | undefined;
  #waking = false;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(options: WriteBudgetOptions = {}) {
    const limit = options.maxBytesInFlight ?? 64 * 1024 * 1024;
    const stallMs = options.stallMs ?? 5000;
    if (!(limit >= 1))
      throw new XdsError(
        Code.InvalidArgument,
        `writeBudget.maxBytesInFlight must be at least 1 (or Infinity), got ${limit}`,
      );
    if (!(stallMs > 0 && Number.isFinite(stallMs)))
      throw new XdsError(
        Code.InvalidArgument,
        `writeBudget.stallMs must be a positive number, got ${stallMs}`,
      );
    this.limit = limit;
    this.stallMs = stallMs;
  }

  /**
   * Whether `waiter` may write now. When it may not, it joins the end of the queue and is resumed when bytes in
   * flight fall below the bound and the waiters before it had their turn.
   */
  admit(waiter: BudgetWaiter): boolean {
    if (this.#inFlight < this.limit && (this.#waiting.size === 0 || this.#resuming === waiter)) return true;
    if (!this.#waiting.has(waiter)) {
      this.#waiting.add(waiter);
      this.#waits++;
    }
    this.#armSweeper();
    return false;
  }

  /** Counts a write of `bytes`; call {@link release} when grpc-js calls back. */
  charge(bytes: number): InFlightWrite {
    const write: InFlightWrite = { bytes, at: Date.now(), done: false };
    this.#inFlight += bytes;
    if (this.#inFlight > this.#peak) this.#peak = this.#inFlight;
    this.#writes.add(write);
    return write;
  }

  /** A write was flushed (or its stream ended): its bytes stop counting; waiters may go. Idempotent. */
  release(write: InFlightWrite): void {
    if (write.done) return;
    write.done = true;
    this.#writes.delete(write);
    this.#inFlight -= write.bytes;
    this.#wake();
  }

  /** A waiter that ended leaves the queue. */
  forget(waiter: BudgetWaiter): void {
    this.#waiting.delete(waiter);
  }

  stats(): WriteBudgetStats {
    return {
      limitBytes: this.limit,
      inFlightBytes: this.#inFlight,
      peakInFlightBytes: this.#peak,
      waitingStreams: this.#waiting.size,
      waits: this.#waits,
      stalledWrites: this.#stalled,
    };
  }

  /** Stops the stall sweeper (the server closed). */
  close(): void {
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  #wake(): void {
    if (this.#waking) return;
    this.#waking = true;
    try {
      while (this.#inFlight < this.limit && this.#waiting.size > 0) {
        const next = this.#waiting.values().next().value as BudgetWaiter;
        this.#waiting.delete(next);
        if (next.ended) continue;
        this.#resuming = next;
        try {
          next.resume();
        } finally {
          this.#resuming = undefined;
        }
      }
    } finally {
      this.#waking = false;
    }
  }

  #armSweeper(): void {
    if (this.#sweeper !== undefined) return;
    this.#sweeper = setInterval(() => this.#sweep(), Math.max(10, this.stallMs / 4));
    this.#sweeper.unref();
  }

  /** Writes older than `stallMs` stop counting, so a client that stopped reading holds up no one. */
  #sweep(): void {
    const oldest = Date.now() - this.stallMs;
    for (const write of this.#writes) {
      if (write.at > oldest) break;
      write.done = true;
      this.#writes.delete(write);
      this.#inFlight -= write.bytes;
      this.#stalled++;
    }
    this.#wake();
    if (this.#waiting.size === 0) this.close();
  }
}
