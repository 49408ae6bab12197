/**
 * Retry delays for adapters whose server cannot be reached: exponential with jitter, capped, so a registry that is
 * down at start (or later) is retried without hammering it and without blocking anything else.
 */

/** Options of {@link Backoff}. */
export interface BackoffOptions {
  /** The first delay in milliseconds; default 200. */
  readonly initialMs?: number;
  /** The largest delay in milliseconds; default 10,000. */
  readonly maxMs?: number;
}

/** Exponential backoff with full jitter. */
export class Backoff {
  readonly #initial: number;
  readonly #max: number;
  #attempt = 0;

  /** @param options delays */
  constructor(options: BackoffOptions = {}) {
    this.#initial = options.initialMs ?? 200;
    this.#max = options.maxMs ?? 10_000;
  }

  /** The next delay in milliseconds. */
  next(): number {
    const ceiling = Math.min(this.#max, this.#initial * 2 ** Math.min(this.#attempt, 20));
    this.#attempt += 1;
    return Math.max(this.#initial / 2, Math.random() * ceiling);
  }

  /** Back to the first delay (after a success). */
  reset(): void {
    this.#attempt = 0;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The message of an unknown thrown value. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
