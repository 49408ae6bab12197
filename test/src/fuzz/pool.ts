// The fuzz driver's bounded pool: `concurrency` cases in flight at once, taken in index order, and among them at
// most `heavy` heavy cases (hundreds of streams that the server answers: they cost it a hundred times a small
// case, and a cluster of them would starve everything else of CPU). A case's bytes come from (seed, index) alone,
// so the pool's scheduling changes what runs beside a case, never the case.

/** A counting semaphore. */
export class Semaphore {
  #free: number;
  readonly #queue: (() => void)[] = [];

  constructor(slots: number) {
    this.#free = slots;
  }

  /** Resolves when a slot is taken; give it back with {@link release}. */
  async acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((resolve) => this.#queue.push(resolve));
  }

  /** Gives a slot back (to the first waiter, if any). */
  release(): void {
    const next = this.#queue.shift();
    if (next !== undefined) next();
    else this.#free++;
  }
}

/** How the pool runs; `T` is what it runs (a case). */
export interface PoolOptions<T> {
  /** The first index and one past the last. */
  readonly from: number;
  readonly to: number;
  /** Cases in flight at once. */
  readonly concurrency: number;
  /** Heavy cases in flight at once. */
  readonly heavy: number;
  /** Item `index` (made when a worker takes the index). */
  readonly take: (index: number) => T;
  /** Whether an item is heavy. */
  readonly isHeavy: (item: T) => boolean;
  /** True when the run must stop taking cases. */
  readonly stopped: () => boolean;
}

/** Runs `run(index, item)` for every index in [from, to) (until stopped), `concurrency` at once. */
export async function runPool<T>(
  options: PoolOptions<T>,
  run: (index: number, item: T) => Promise<void>,
): Promise<void> {
  const heavy = new Semaphore(Math.max(1, options.heavy));
  let next = options.from;
  const worker = async () => {
    while (!options.stopped() && next < options.to) {
      const index = next++;
      const item = options.take(index);
      const isHeavy = options.isHeavy(item);
      if (isHeavy) await heavy.acquire();
      try {
        if (!options.stopped()) await run(index, item);
      } finally {
        if (isHeavy) heavy.release();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
}
