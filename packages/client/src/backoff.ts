/**
 * The delay before the next connection attempt: exponential, capped, with jitter so that a fleet of clients that
 * lost the same server does not come back in one wave.
 */
import type { BackoffOptions } from './options.js';

/** Exponential backoff with jitter; {@link next} gives the next delay, {@link reset} starts over. */
export class Backoff {
  readonly #initial: number;
  readonly #max: number;
  readonly #multiplier: number;
  readonly #jitter: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.#initial = positive('backoff.initialMs', options.initialMs ?? 500);
    this.#max = Math.max(this.#initial, positive('backoff.maxMs', options.maxMs ?? 30_000));
    this.#multiplier = Math.max(1, options.multiplier ?? 2);
    const jitter = options.jitter ?? 0.5;
    if (!(jitter >= 0 && jitter <= 1))
      throw new RangeError(`backoff.jitter must be in [0, 1], got ${jitter}`);
    this.#jitter = jitter;
    this.#random = options.random ?? Math.random;
  }

  /** How many delays were given since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The delay step before jitter for an attempt number: `initial × multiplier^attempt`, capped. */
  step(attempt: number): number {
    return Math.min(this.#max, this.#initial * this.#multiplier ** Math.min(attempt, 64));
  }

  /** The next delay (ms): the step of this attempt, less a random part of up to `jitter` of it. */
  next(): number {
    const step = this.step(this.#attempt++);
    return Math.round(step * (1 - this.#jitter * this.#random()));
  }

  /** Starts over from the first delay (after a healthy stream). */
  reset(): void {
    this.#attempt = 0;
  }
}

function positive(name: string, value: number): number {
  if (!(value > 0) || !Number.isFinite(value))
    throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}
