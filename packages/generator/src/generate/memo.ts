// Generation remembers what it built, so that building again from equal input returns the very same objects: the
// cache then encodes a resource once per content (rule R3) and a push sends only what changed (rule S8). What it
// keeps must be bounded by the models that are live, not by how long the process has run (fuzz finding 4: an
// LRU bounded by count kept ~2.7 KiB per entry of a churning model, up to 100,000 entries). So entries belong to
// the generations that used them: an owner's (a cache's snapshot slot's) latest generation keeps what it used,
// and the rest is spare, a small LRU bounded in entries and in estimated bytes.
import { contentHash } from '@xds/cache';
import { stableJson } from './stable-json.js';

/** Options of {@link ResourceMemo}. */
export interface ResourceMemoOptions {
  /**
   * How many spare entries to keep (entries that no owner's latest generation used: what an anonymous generation
   * built, what an owner stopped using); the least recently used go first. Default 2,000.
   */
  readonly maxSpareEntries?: number;
  /** How many bytes (estimated, see {@link ResourceMemo.bytes}) of spare entries to keep. Default 4 MiB. */
  readonly maxSpareBytes?: number;
}

/** What {@link ResourceMemo.stats} reports. */
export interface ResourceMemoStats {
  /** Lookups that found an entry. */
  readonly hits: number;
  /** Lookups that built one. */
  readonly misses: number;
  /** Entries held, owned and spare. */
  readonly entries: number;
  /** Estimated bytes of every entry held. */
  readonly bytes: number;
  /** Entries that no owner's latest generation uses. */
  readonly spareEntries: number;
  /** Estimated bytes of those. */
  readonly spareBytes: number;
  /** Owner slots whose latest generation is kept. */
  readonly slots: number;
}

/** Where a generation's result lives: an object (a `SnapshotCache`…) and a name within it (a snapshot key). */
export interface MemoOwner {
  /** What holds the result; when it is garbage-collected, what its generations used becomes spare. */
  readonly owner: object;
  /** One of the owner's results (e.g. the flavour, a snapshot key); default `''`. */
  readonly slot?: string;
}

interface Entry {
  readonly value: unknown;
  /** Estimated bytes of what this entry alone holds (memoized parts are counted in their own entries). */
  readonly bytes: number;
  /** Keys of the entries looked up while building this one: they are used whenever this one is. */
  readonly children: readonly string[];
  /** How many owner slots' latest generations, and open generations, use this entry; 0: spare. */
  refs: number;
}

interface Slot {
  /** The keys the slot's latest finished generation used. */
  current: Set<string>;
}

interface Generation {
  readonly used: Set<string>;
  readonly slot: Slot | undefined;
}

/**
 * Deep-freezes what was built and estimates its size: 32 bytes an object, 8 a property or number, strings by
 * length, binary by byte length. Objects already frozen (parts memoized before) count as a pointer.
 */
export function freezeAndMeasure(value: unknown): number {
  if (typeof value === 'string') return 16 + value.length;
  if (typeof value !== 'object' || value === null) return 8;
  if (ArrayBuffer.isView(value)) return 64 + value.byteLength;
  if (Object.isFrozen(value)) return 8;
  Object.freeze(value);
  let bytes = 32;
  for (const child of Object.values(value)) bytes += 8 + freezeAndMeasure(child);
  return bytes;
}

/**
 * Remembers what generation built, by a hash of what it was built from, so that building again from equal input
 * returns the very same (deeply frozen) objects. `@xds/cache` encodes a message object once, so a resource that
 * did not change is not encoded again, and its version stays put.
 *
 * Bounded by the live models: run each generation through {@link generation} with its {@link MemoOwner} (the
 * generators do it with `GenerateOptions.owner`, `publishModel` with the cache and the flavour). What an owner
 * slot's latest generation used is kept (so the next generation of that slot shares it); what it no longer uses
 * becomes spare unless another slot still uses it. Spare entries, and everything a generation without owner
 * built, are kept in a least-recently-used list of at most `maxSpareEntries` entries and `maxSpareBytes`.
 */
export class ResourceMemo {
  readonly #entries = new Map<string, Entry>();
  /** Keys of spare entries (refs 0), least recently used first. */
  readonly #spare = new Set<string>();
  readonly #maxSpareEntries: number;
  readonly #maxSpareBytes: number;
  readonly #owners = new WeakMap<object, Map<string, Slot>>();
  /** Every slot (slots do not reference their owner, so holding them keeps no owner alive). */
  readonly #slots = new Set<Slot>();
  readonly #finalizer = new FinalizationRegistry<Map<string, Slot>>((slots) => {
    for (const slot of slots.values()) this.#dropSlot(slot);
    this.#trim();
  });
  /** Generations under way, innermost last. */
  readonly #open: Generation[] = [];
  /** For each entry being built, innermost last, the keys it looked up. */
  readonly #building: string[][] = [];
  #bytes = 0;
  #spareBytes = 0;
  #hits = 0;
  #misses = 0;

  /** A memo keeping at most `maxSpareEntries` / `maxSpareBytes` of spare entries. */
  constructor(options: ResourceMemoOptions = {}) {
    this.#maxSpareEntries = Math.max(0, options.maxSpareEntries ?? 2_000);
    this.#maxSpareBytes = Math.max(0, options.maxSpareBytes ?? 4 * 1024 * 1024);
  }

  /** The key of an input: `kind:` + a content hash of its JSON (keys sorted). */
  key(kind: string, input: unknown): string {
    return `${kind}:${contentHash(stableJson(input))}`;
  }

  /** The value built for an equal input before, else `build()`'s result, frozen and remembered. */
  get<T>(kind: string, input: unknown, build: () => T): T {
    return this.getByKey(this.key(kind, input), build);
  }

  /**
   * Like {@link get} with a key made by {@link key} (or any string that names the input's content). `measured`: the
   * estimated bytes of parts of the value that the caller froze already with {@link freezeAndMeasure} (built in
   * steps); they count as a pointer when the value is measured, so they are added here.
   */
  getByKey<T>(key: string, build: () => T, measured = 0): T {
    this.#building.at(-1)?.push(key);
    const generation = this.#open.at(-1);
    const found = this.#entries.get(key);
    if (found !== undefined) {
      this.#hits++;
      if (generation !== undefined) this.#use(generation, key);
      else if (found.refs === 0) {
        this.#spare.delete(key);
        this.#spare.add(key);
      }
      return found.value as T;
    }
    this.#misses++;
    const children: string[] = [];
    this.#building.push(children);
    let value: T;
    try {
      value = build();
    } finally {
      this.#building.pop();
    }
    const entry: Entry = {
      value,
      bytes: freezeAndMeasure(value) + measured,
      children: [...new Set(children)],
      refs: 0,
    };
    this.#entries.set(key, entry);
    this.#bytes += entry.bytes;
    if (generation !== undefined) this.#use(generation, key);
    else {
      this.#toSpare(key, entry);
      this.#trim();
    }
    return value;
  }

  /**
   * Runs `build` as one generation of `owner`'s slot (or of no owner): every entry it uses, and the parts those
   * entries were built from, is kept until the slot's next generation ends; what the slot's previous generation
   * used and this one did not becomes spare, unless another slot uses it. Without an owner, everything the
   * generation used becomes spare when it ends. If `build` throws, the slot keeps its previous generation.
   */
  generation<T>(owner: MemoOwner | undefined, build: () => T): T {
    const generation = this.#begin(owner);
    this.#open.push(generation);
    let done = false;
    try {
      const result = build();
      done = true;
      return result;
    } finally {
      this.#open.splice(this.#open.lastIndexOf(generation), 1);
      this.#end(generation, done);
    }
  }

  /**
   * Like {@link generation}, for a build that runs in slices with other work between them (rule L4: generation
   * gives the event loop a turn): `run` does its memo work inside `slice(work)`, which runs `work` at once as part
   * of this generation, and awaits what it likes between slices. Other generations (sync or async) may run in
   * between; each slice counts for its own generation only. The slot moves to this generation when `run`
   * resolves; if it rejects (an error, or superseded), the slot keeps its previous generation and what this one
   * built becomes spare.
   */
  async generationAsync<T>(
    owner: MemoOwner | undefined,
    run: (slice: <R>(work: () => R) => R) => Promise<T>,
  ): Promise<T> {
    const generation = this.#begin(owner);
    const slice = <R>(work: () => R): R => {
      this.#open.push(generation);
      try {
        return work();
      } finally {
        this.#open.splice(this.#open.lastIndexOf(generation), 1);
      }
    };
    let done = false;
    try {
      const result = await run(slice);
      done = true;
      return result;
    } finally {
      this.#end(generation, done);
    }
  }

  /** True when an entry is held under `key` (no lookup is counted, nothing is marked used). */
  has(key: string): boolean {
    return this.#entries.has(key);
  }

  #begin(owner: MemoOwner | undefined): Generation {
    const slot = owner === undefined ? undefined : this.#slotOf(owner.owner, owner.slot ?? '');
    return { used: new Set(), slot };
  }

  /** A finished generation: its slot now keeps what it used (when `done`), else what it used becomes spare. */
  #end(generation: Generation, done: boolean): void {
    const slot = generation.slot;
    if (done && slot !== undefined && this.#slots.has(slot)) {
      const previous = slot.current;
      slot.current = generation.used;
      this.#release(previous);
    } else {
      this.#release(generation.used);
    }
    this.#trim();
  }

  /** Forgets what `owner`'s generations (or only its `slot`'s) use: those entries become spare. */
  release(owner: object, slot?: string): void {
    const slots = this.#owners.get(owner);
    if (slots === undefined) return;
    for (const [name, found] of slots) {
      if (slot !== undefined && name !== slot) continue;
      this.#dropSlot(found);
      slots.delete(name);
    }
    if (slots.size === 0) {
      this.#owners.delete(owner);
      this.#finalizer.unregister(slots);
    }
    this.#trim();
  }

  /** How many entries are held. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Estimated bytes held: each built object counted once (32 bytes an object, 8 a property, strings by length),
   * parts shared with other entries counted in theirs. An estimate of the heap they hold, for bounds and reports.
   */
  get bytes(): number {
    return this.#bytes;
  }

  /** Lookups, entries and bytes held, owned and spare. */
  stats(): ResourceMemoStats {
    return {
      hits: this.#hits,
      misses: this.#misses,
      entries: this.#entries.size,
      bytes: this.#bytes,
      spareEntries: this.#spare.size,
      spareBytes: this.#spareBytes,
      slots: this.#slots.size,
    };
  }

  /** Forgets every entry (owners stay known; their next generation builds afresh). */
  clear(): void {
    this.#entries.clear();
    this.#spare.clear();
    for (const slot of this.#slots) slot.current = new Set();
    for (const generation of this.#open) generation.used.clear();
    this.#bytes = 0;
    this.#spareBytes = 0;
  }

  #slotOf(owner: object, name: string): Slot {
    let slots = this.#owners.get(owner);
    if (slots === undefined) {
      slots = new Map();
      this.#owners.set(owner, slots);
      this.#finalizer.register(owner, slots, slots);
    }
    let slot = slots.get(name);
    if (slot === undefined) {
      slot = { current: new Set() };
      slots.set(name, slot);
      this.#slots.add(slot);
    }
    return slot;
  }

  #dropSlot(slot: Slot): void {
    if (!this.#slots.delete(slot)) return;
    this.#release(slot.current);
    slot.current = new Set();
  }

  /** Marks `key` and the parts it was built from as used by `generation` (a reference each, once). */
  #use(generation: Generation, key: string): void {
    const pending = [key];
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      if (generation.used.has(next)) continue;
      const entry = this.#entries.get(next);
      if (entry === undefined) continue;
      generation.used.add(next);
      if (entry.refs++ === 0 && this.#spare.delete(next)) this.#spareBytes -= entry.bytes;
      pending.push(...entry.children);
    }
  }

  /** Drops one reference from each of `keys`; entries left with none become spare (most recently used). */
  #release(keys: Iterable<string>): void {
    for (const key of keys) {
      const entry = this.#entries.get(key);
      if (entry === undefined || entry.refs === 0) continue;
      if (--entry.refs === 0) this.#toSpare(key, entry);
    }
  }

  #toSpare(key: string, entry: Entry): void {
    this.#spare.add(key);
    this.#spareBytes += entry.bytes;
  }

  /** Forgets the least recently used spare entries until the spare fits its bounds. */
  #trim(): void {
    while (this.#spare.size > this.#maxSpareEntries || this.#spareBytes > this.#maxSpareBytes) {
      const oldest = this.#spare.values().next();
      if (oldest.done === true) break;
      const entry = this.#entries.get(oldest.value);
      this.#spare.delete(oldest.value);
      this.#entries.delete(oldest.value);
      if (entry !== undefined) {
        this.#spareBytes -= entry.bytes;
        this.#bytes -= entry.bytes;
      }
    }
  }
}

/** The memo that generation uses when none is given: shared by every caller in the process. */
export const defaultMemo: ResourceMemo = new ResourceMemo();
