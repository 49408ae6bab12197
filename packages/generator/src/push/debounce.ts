/** Why a batch was pushed. */
export type PushReason = 'quiet' | 'max' | 'flush';

/** The changes merged into one push. */
export interface PushBatch<C> {
  /** Every change scheduled since the last push, oldest first. */
  readonly changes: readonly C[];
  /** When the first of them was scheduled (ms since the epoch). */
  readonly firstAt: number;
  /** When the last of them was scheduled (ms since the epoch). */
  readonly lastAt: number;
  /** `quiet`: nothing new for `quietMs`; `max`: `maxMs` since the first change; `flush`: asked for. */
  readonly reason: PushReason;
}

/** Options of {@link createPushDebouncer}. */
export interface PushDebouncerOptions<C> {
  /** Push once no change has come for this long (ms); default 100. */
  readonly quietMs?: number;
  /** Push at the latest this long (ms) after the first change of a batch, however busy; default 10,000. */
  readonly maxMs?: number;
  /**
   * Pushes a batch. When it returns a promise, the next push waits for it (changes meanwhile are merged into the
   * next batch): one push at a time.
   */
  readonly onPush: (batch: PushBatch<C>) => void | Promise<void>;
  /** Gets what `onPush` threw or rejected with; default: a process warning. */
  readonly onError?: (error: unknown) => void;
  /** Closes the debouncer (dropping pending changes) when aborted. */
  readonly signal?: AbortSignal;
}

/** Merges bursts of changes into few pushes (see {@link createPushDebouncer}). */
export interface PushDebouncer<C> {
  /** Adds a change to the next push. Ignored after {@link close}. */
  schedule(change: C): void;
  /** Pushes pending changes now (after any push in flight) and resolves when that push is done. */
  flush(): Promise<void>;
  /** Stops: drops pending changes unless `flush` is true, and resolves when the push in flight is done. */
  close(options?: { readonly flush?: boolean }): Promise<void>;
  /** How many changes wait for the next push. */
  readonly pending: number;
  /** True after {@link close}. */
  readonly closed: boolean;
}

function warn(error: unknown): void {
  process.emitWarning(error instanceof Error ? error : new Error(String(error)), 'PushDebouncerWarning');
}

class Debouncer<C> implements PushDebouncer<C> {
  readonly #quietMs: number;
  readonly #maxMs: number;
  readonly #onPush: (batch: PushBatch<C>) => void | Promise<void>;
  readonly #onError: (error: unknown) => void;
  #changes: C[] = [];
  #firstAt = 0;
  #lastAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #closed = false;

  constructor(options: PushDebouncerOptions<C>) {
    this.#quietMs = Math.max(0, options.quietMs ?? 100);
    this.#maxMs = Math.max(this.#quietMs, options.maxMs ?? 10_000);
    this.#onPush = options.onPush;
    this.#onError = options.onError ?? warn;
    const signal = options.signal;
    if (signal?.aborted) this.#closed = true;
    signal?.addEventListener('abort', () => this.#stop(false), { once: true });
  }

  get pending(): number {
    return this.#changes.length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  schedule(change: C): void {
    if (this.#closed) return;
    const now = Date.now();
    if (this.#changes.length === 0) this.#firstAt = now;
    this.#lastAt = now;
    this.#changes.push(change);
    this.#arm();
  }

  async flush(): Promise<void> {
    this.#clearTimer();
    await this.#idle();
    if (this.#changes.length > 0) this.#push('flush');
    await this.#idle();
  }

  async close(options: { readonly flush?: boolean } = {}): Promise<void> {
    this.#stop(options.flush === true);
    await this.#idle();
  }

  /** Resolves once no push is in flight (a push that ends may start the next one). */
  async #idle(): Promise<void> {
    while (this.#inFlight !== undefined) await this.#inFlight;
  }

  #stop(flush: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearTimer();
    if (flush && this.#changes.length > 0 && this.#inFlight === undefined) this.#push('flush');
    else if (!flush) this.#changes = [];
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    this.#clearTimer();
    if (this.#inFlight !== undefined || this.#changes.length === 0) return;
    const due = Math.min(this.#lastAt + this.#quietMs, this.#firstAt + this.#maxMs);
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, due - Date.now()));
  }

  #fire(): void {
    this.#timer = undefined;
    if (this.#changes.length === 0) return;
    const now = Date.now();
    if (now - this.#lastAt >= this.#quietMs) this.#push('quiet');
    else if (now - this.#firstAt >= this.#maxMs) this.#push('max');
    else this.#arm();
  }

  #push(reason: PushReason): void {
    const batch: PushBatch<C> = {
      changes: this.#changes,
      firstAt: this.#firstAt,
      lastAt: this.#lastAt,
      reason,
    };
    this.#changes = [];
    let result: void | Promise<void>;
    try {
      result = this.#onPush(batch);
    } catch (error) {
      this.#onError(error);
      return;
    }
    if (!(result instanceof Promise)) return;
    this.#inFlight = result.then(
      () => this.#settled(),
      (error: unknown) => {
        this.#onError(error);
        this.#settled();
      },
    );
  }

  #settled(): void {
    this.#inFlight = undefined;
    if (this.#closed) {
      if (this.#changes.length > 0) this.#push('flush');
      return;
    }
    this.#arm();
  }
}

/**
 * A debouncer in the manner of Istio pilot's: `schedule(change)` calls are merged, and the batch is pushed once
 * no change has come for `quietMs`, or `maxMs` after the first change of the batch, whichever is first. One push
 * runs at a time; changes that arrive meanwhile go into the next batch.
 */
export function createPushDebouncer<C>(options: PushDebouncerOptions<C>): PushDebouncer<C> {
  return new Debouncer(options);
}
