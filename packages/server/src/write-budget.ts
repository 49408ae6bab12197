// A server-wide bound on response bytes written to grpc-js but not yet flushed to the socket, and the ledger of every
// unflushed write. Rule S12 bounds what one stream holds (one unflushed response at a time, see DiscoveryStream);
// this bounds what the process holds when thousands of streams are due a response at once (a connect storm, a push
// of every type). Streams that find the budget spent wait in a round-robin queue and take their response from the
// cache only when it is their turn, so a waiting stream still coalesces newer snapshots into one response.
//
// A client that stops reading must not hold up the others, and must not hold its response for ever:
// - a write stops counting against the budget (it is "stalled") when a whole budget of bytes written after it was
//   flushed while it was not, or when nothing at all was flushed for `stallMs` while streams wait;
// - a write not flushed within `limits.drainTimeoutMs` ends its stream (rule S12, L2).
// A stalled write still holds its bytes until then: it shows in `unflushedBytes`.
import { Code, XdsError } from '@xds/api';

/** A stream that can wait for the budget. */
export interface BudgetWaiter {
  readonly ended: boolean;
  /** Called when it is the waiter's turn: it writes what it has, asking {@link WriteBudget.admit} again. */
  resume(): void;
}

/** The stream a write belongs to. */
export interface WriteOwner extends BudgetWaiter {
  /** Its write was not flushed within the drain timeout: the stream must end. */
  drainTimedOut(timeoutMs: number): void;
}

/** One write, from grpc-js's `write()` until its callback (flushed) or its stream's end. */
export interface InFlightWrite {
  readonly bytes: number;
  /** When it was written (ms since the epoch). */
  readonly at: number;
  /** Bytes retired (flushed or written off) before it was written, plus bytes in flight then. */
  readonly mark: number;
  readonly owner: WriteOwner;
  /** Still counted against the budget (not stalled). */
  counted: boolean;
  /** Flushed or released. */
  done: boolean;
}

/** What {@link WriteBudget.stats} reports. */
export interface WriteBudgetStats {
  /** The bound (bytes); Infinity when unbounded. */
  readonly limitBytes: number;
  /** Bytes written and not yet flushed that count against the budget (stalled writes do not). */
  readonly inFlightBytes: number;
  /** The most bytes in flight at once since the server started. */
  readonly peakInFlightBytes: number;
  /** Streams waiting for their turn now. */
  readonly waitingStreams: number;
  /** How many times a stream had to wait. */
  readonly waits: number;
  /** Writes that stopped counting against the budget because their client did not read (since start). */
  readonly stalledWrites: number;
  /** Bytes of every write not flushed yet, stalled ones included: what responses hold now. */
  readonly unflushedBytes: number;
  /** Writes not flushed yet, stalled ones included (at most one per stream, rule S12). */
  readonly unflushedWrites: number;
}

/** Options of the write budget, see `XdsServerOptions.writeBudget`. */
export interface WriteBudgetOptions {
  /** The most response bytes in flight across all streams; default 64 MiB; Infinity for no bound. */
  readonly maxBytesInFlight?: number;
  /**
   * When streams wait for the budget and no write at all was flushed for this long (ms), the writes in flight that
   * are at least this old stop counting against it (their clients do not read), so that they delay others by at
   * most this much; default 100 ms. A write also stops counting once a whole budget of later writes was flushed
   * before it.
   */
  readonly stallMs?: number;
}

export class WriteBudget {
  readonly limit: number;
  readonly stallMs: number;
  readonly drainTimeoutMs: number;
  #inFlight = 0;
  #peak = 0;
  #waits = 0;
  #stalled = 0;
  #unflushedBytes = 0;
  /** Bytes charged since the start; a write's mark is this before it. */
  #charged = 0;
  /** Bytes no longer counted (flushed, stalled or released) since the start. */
  #retired = 0;
  /** When a write was last flushed (or the sweeper started): no progress since then means no reader reads. */
  #progressAt = 0;
  /** Counted writes in the order written (so marks and times ascend). */
  readonly #counted = new Set<InFlightWrite>();
  /** Every unflushed write in the order written, for the drain timeout. */
  readonly #unflushed = new Set<InFlightWrite>();
  readonly #waiting = new Set<BudgetWaiter>();
  #resuming: BudgetWaiter | undefined;
  #waking = false;
  #sweeper: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: WriteBudgetOptions = {}, drainTimeoutMs = 30_000) {
    const limit = options.maxBytesInFlight ?? 64 * 1024 * 1024;
    const stallMs = options.stallMs ?? 100;
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
    this.drainTimeoutMs = drainTimeoutMs;
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

  /** Counts a write of `bytes` by `owner`; call {@link flushed} when grpc-js calls back, {@link release} on end. */
  charge(bytes: number, owner: WriteOwner): InFlightWrite {
    const write: InFlightWrite = {
      bytes,
      at: Date.now(),
      mark: this.#charged,
      owner,
      counted: true,
      done: false,
    };
    this.#charged += bytes;
    this.#inFlight += bytes;
    this.#unflushedBytes += bytes;
    if (this.#inFlight > this.#peak) this.#peak = this.#inFlight;
    this.#counted.add(write);
    this.#unflushed.add(write);
    this.#armSweeper();
    return write;
  }

  /** grpc-js flushed a write: its bytes stop counting, older writes a whole budget behind stall; waiters may go. */
  flushed(write: InFlightWrite): void {
    if (write.done) return;
    this.#progressAt = Date.now();
    this.release(write);
    // A write that a whole budget of later writes overtook is not slow because of the others: its client is.
    for (const oldest of this.#counted) {
      if (this.#retired - oldest.mark < this.limit) break;
      this.#stall(oldest);
    }
    this.#wake();
  }

  /** A write's stream ended: its bytes stop counting and are no longer held. Idempotent. */
  release(write: InFlightWrite): void {
    if (write.done) return;
    write.done = true;
    this.#unflushed.delete(write);
    this.#unflushedBytes -= write.bytes;
    if (write.counted) {
      write.counted = false;
      this.#counted.delete(write);
      this.#inFlight -= write.bytes;
      this.#retired += write.bytes;
    }
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
      unflushedBytes: this.#unflushedBytes,
      unflushedWrites: this.#unflushed.size,
    };
  }

  /** Stops the sweeper for good (the server closed). */
  close(): void {
    this.#closed = true;
    this.#disarm();
  }

  #stall(write: InFlightWrite): void {
    write.counted = false;
    this.#counted.delete(write);
    this.#inFlight -= write.bytes;
    this.#retired += write.bytes;
    this.#stalled++;
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
    if (this.#sweeper !== undefined || this.#closed) return;
    this.#progressAt = Date.now();
    const every = Math.max(5, Math.min(this.stallMs / 2, this.drainTimeoutMs / 4));
    this.#sweeper = setInterval(() => this.#sweep(), every);
    this.#sweeper.unref();
  }

  #disarm(): void {
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  #sweep(): void {
    const now = Date.now();
    // Streams wait and nothing was flushed for stallMs: what is in flight is not moving.
    const oldest = now - this.stallMs;
    if (this.#waiting.size > 0 && this.#progressAt <= oldest) {
      for (const write of this.#counted) {
        if (write.at > oldest) break;
        this.#stall(write);
      }
      this.#wake();
    }
    // Rule S12: a stream whose response is not flushed within the drain timeout ends.
    const due = now - this.drainTimeoutMs;
    for (const write of this.#unflushed) {
      if (write.at > due) break;
      this.release(write);
      write.owner.drainTimedOut(this.drainTimeoutMs);
    }
    if (this.#unflushed.size === 0 && this.#waiting.size === 0) this.#disarm();
  }
}
