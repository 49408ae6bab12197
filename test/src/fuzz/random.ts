// The fuzzer's only source of randomness: a small seeded generator, so that a run's seed and a case's index give
// the same bytes again (replay with `--seed N --case I`). Math.random is never used for inputs.

/** A seeded pseudo-random generator (sfc32) with the helpers the case generators need. */
export class Random {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** A generator for case `index` of run `seed`: each case has its own stream, independent of the others. */
  constructor(seed: number, index = 0) {
    this.#a = mix(seed ^ 0x9e3779b9);
    this.#b = mix(index ^ 0x85ebca6b);
    this.#c = mix((seed + index * 0x27d4eb2f) | 0);
    this.#d = 1;
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** 32 random bits as an unsigned integer. */
  u32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return n <= 1 ? 0 : Math.floor((this.u32() / 2 ** 32) * n);
  }

  /** An integer in [min, max]. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() / 2 ** 32 < p;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** One key of a table of weights, chosen in proportion to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weights) as [K, number][];
    let total = 0;
    for (const [, w] of entries) total += w;
    let at = (this.u32() / 2 ** 32) * total;
    for (const [key, w] of entries) {
      at -= w;
      if (at < 0) return key;
    }
    return entries[entries.length - 1]![0];
  }

  /** A size skewed towards small values, with rare large ones: most in [0, 16), some up to `max`. */
  size(max: number): number {
    const roll = this.int(100);
    if (roll < 70) return this.int(Math.min(16, max + 1));
    if (roll < 95) return this.int(Math.min(256, max + 1));
    return this.int(max + 1);
  }

  /** `n` random bytes. */
  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

/** A 32-bit integer hash (murmur3's finaliser), to spread seeds. */
function mix(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/** A fresh seed for a run when none is given (the one place that is not reproducible, and it is printed). */
export function freshSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}
