/**
 * The server-wide bound on CSDS answers built at once (rule L2, `limits.maxConcurrentStatusCalls`): each answer is
 * built in slices that give way to other work, and at most this many take turns with the xDS streams; more calls
 * wait in order, and past `maxWaiting` waiting calls one more is refused with RESOURCE_EXHAUSTED naming the limit.
 */
import { Code, XdsError } from '@xds/api';

/** Calls that may wait for a turn, beyond those running. */
export const maxWaitingStatusCalls = 100;

export class StatusGate {
  readonly #max: number;
  readonly #maxWaiting: number;
  readonly #waiting: (() => void)[] = [];
  #running = 0;

  constructor(max: number, maxWaiting = maxWaitingStatusCalls) {
    this.#max = max;
    this.#maxWaiting = maxWaiting;
  }

  /**
   * Runs `work` when a turn is free; rejects with RESOURCE_EXHAUSTED (after calling `refused`) when too many calls
   * wait already.
   */
  async run<T>(work: () => Promise<T>, refused?: () => void): Promise<T> {
    if (this.#running >= this.#max) {
      if (this.#waiting.length >= this.#maxWaiting) {
        refused?.();
        throw new XdsError(
          Code.ResourceExhausted,
          `limits.maxConcurrentStatusCalls (${this.#max}) CSDS answers are being built and ${this.#maxWaiting} more wait: try again later`,
        );
      }
      // The turn is handed over by the call that finishes (running stays the same).
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      if (next !== undefined) next();
      else this.#running--;
    }
  }

  /** Answers being built now, and calls waiting for a turn. */
  get stats(): { readonly running: number; readonly waiting: number } {
    return { running: this.#running, waiting: this.#waiting.length };
  }
}
