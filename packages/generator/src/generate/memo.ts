import { contentHash } from '@xds/cache';
import { stableJson } from './stable-json.js';

/** Options of {@link ResourceMemo}. */
export interface ResourceMemoOptions {
  /** How many entries to keep; the least recently used go first. Default 100,000. */
  readonly maxEntries?: number;
}

function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value) || ArrayBuffer.isView(value)) {
    return value;
  }
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
  return value;
}

/**
 * Remembers what generation built, by a hash of what it was built from, so that building again from equal input
 * returns the very same (deeply frozen) objects. `@xds/cache` encodes a message object once, so a resource that
 * did not change is not encoded again, and its version stays put. Bounded: least recently used entries go first.
 */
export class ResourceMemo {
  readonly #entries = new Map<string, unknown>();
  readonly #max: number;
  #hits = 0;
  #misses = 0;

  /** A memo holding at most `options.maxEntries` entries. */
  constructor(options: ResourceMemoOptions = {}) {
    this.#max = Math.max(1, options.maxEntries ?? 100_000);
  }

  /** The key of an input: `kind:` + a content hash of its JSON (keys sorted). */
  key(kind: string, input: unknown): string {
    return `${kind}:${contentHash(stableJson(input))}`;
  }

  /** The value built for an equal input before, else `build()`'s result, frozen and remembered. */
  get<T>(kind: string, input: unknown, build: () => T): T {
    return this.getByKey(this.key(kind, input), build);
  }

  /** Like {@link get} with a key made by {@link key} (or any string that names the input's content). */
  getByKey<T>(key: string, build: () => T): T {
    if (this.#entries.has(key)) {
      const value = this.#entries.get(key);
      this.#entries.delete(key);
      this.#entries.set(key, value);
      this.#hits++;
      return value as T;
    }
    this.#misses++;
    const value = deepFreeze(build());
    this.#entries.set(key, value);
    if (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    return value;
  }

  /** How many entries are held. */
  get size(): number {
    return this.#entries.size;
  }

  /** How many lookups found an entry, and how many built one. */
  stats(): { readonly hits: number; readonly misses: number } {
    return { hits: this.#hits, misses: this.#misses };
  }

  /** Forgets everything. */
  clear(): void {
    this.#entries.clear();
  }
}

/** The memo that generation uses when none is given: shared by every caller in the process. */
export const defaultMemo: ResourceMemo = new ResourceMemo();
