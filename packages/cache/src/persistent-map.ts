/**
 * An immutable map from names to values whose change costs O(the change), not O(the map): the per-type resource maps
 * of snapshots that follow an upstream one small change at a time (the relay, rule X4; rule L2: an origin changing one
 * of 5,000 clusters every few milliseconds must not cost the relay 5,000 copies each time). A map is a flat base
 * (shared, never changed) plus an overlay of the names changed since, held in a hash trie whose change copies one path
 * of at most 32-slot nodes; once the overlay outgrows half the base, the next change folds both into a new flat base
 * (amortised O(1) per changed name). Reading is O(1) (the overlay, then the base); iteration keeps `Map` order: a
 * replaced name keeps its place, an added (or removed and added again) name comes last.
 */

/** A name's state in the overlay: its value (undefined: removed), and whether it iterates after the base. */
interface Slot<V> {
  readonly value: V | undefined;
  /** True when the name iterates after the base's names, in `seq` order. */
  readonly appended: boolean;
  readonly seq: number;
}

interface Leaf<V> {
  readonly hash: number;
  readonly keys: readonly string[];
  readonly slots: readonly Slot<V>[];
}

interface Branch<V> {
  readonly bitmap: number;
  readonly children: readonly Trie<V>[];
}

type Trie<V> = Leaf<V> | Branch<V>;

let copied = 0;

/**
 * How many values and trie slots persistent maps have copied in this process (a flat base's entries when folded, a
 * trie node's slots when a path is copied). Tests and benchmarks read it to prove that a change costs O(the change).
 */
export function persistentMapCopies(): number {
  return copied;
}

function hashOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function isLeaf<V>(node: Trie<V>): node is Leaf<V> {
  return 'keys' in node;
}

function popcount(x: number): number {
  let n = x - ((x >>> 1) & 0x55555555);
  n = (n & 0x33333333) + ((n >>> 2) & 0x33333333);
  return (((n + (n >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

function copyOf<T>(items: readonly T[]): T[] {
  copied += items.length;
  return items.slice();
}

function lookup<V>(node: Trie<V> | undefined, hash: number, key: string): Slot<V> | undefined {
  for (let shift = 0; node !== undefined; shift += 5) {
    if (isLeaf(node)) {
      if (node.hash !== hash) return undefined;
      const at = node.keys.indexOf(key);
      return at < 0 ? undefined : node.slots[at];
    }
    const bit = 1 << ((hash >>> shift) & 31);
    if ((node.bitmap & bit) === 0) return undefined;
    node = node.children[popcount(node.bitmap & (bit - 1))];
  }
  return undefined;
}

/** A branch holding two leaves of different hashes, from `shift` on. */
function split<V>(a: Leaf<V>, b: Leaf<V>, shift: number): Trie<V> {
  const ia = (a.hash >>> shift) & 31;
  const ib = (b.hash >>> shift) & 31;
  if (ia === ib) return { bitmap: 1 << ia, children: [split(a, b, shift + 5)] };
  return { bitmap: (1 << ia) | (1 << ib), children: ia < ib ? [a, b] : [b, a] };
}

/** The trie with `key` set to `slot` (undefined: dropped from the overlay), copying one path. */
function put<V>(
  node: Trie<V> | undefined,
  hash: number,
  key: string,
  slot: Slot<V> | undefined,
  shift: number,
): Trie<V> | undefined {
  if (node === undefined) return slot === undefined ? undefined : { hash, keys: [key], slots: [slot] };
  if (isLeaf(node)) {
    if (node.hash === hash) {
      const at = node.keys.indexOf(key);
      if (at < 0 && slot === undefined) return node;
      const keys = copyOf(node.keys);
      const slots = copyOf(node.slots);
      if (slot === undefined) {
        keys.splice(at, 1);
        slots.splice(at, 1);
        return keys.length === 0 ? undefined : { hash, keys, slots };
      }
      if (at >= 0) slots[at] = slot;
      else {
        keys.push(key);
        slots.push(slot);
      }
      return { hash, keys, slots };
    }
    if (slot === undefined) return node;
    return split(node, { hash, keys: [key], slots: [slot] }, shift);
  }
  const bit = 1 << ((hash >>> shift) & 31);
  const at = popcount(node.bitmap & (bit - 1));
  const present = (node.bitmap & bit) !== 0;
  const child = put(present ? node.children[at] : undefined, hash, key, slot, shift + 5);
  if (present && child === node.children[at]) return node;
  const children = copyOf(node.children);
  if (child === undefined) {
    children.splice(at, 1);
    const bitmap = node.bitmap & ~bit;
    if (bitmap === 0) return undefined;
    // A branch left with one leaf becomes that leaf (lookups stop at leaves whatever their depth).
    if (children.length === 1 && isLeaf(children[0]!)) return children[0];
    return { bitmap, children };
  }
  if (present) children[at] = child;
  else children.splice(at, 0, child);
  return { bitmap: present ? node.bitmap : node.bitmap | bit, children };
}

function* slotsOf<V>(node: Trie<V> | undefined): Generator<[string, Slot<V>]> {
  if (node === undefined) return;
  if (isLeaf(node)) {
    for (let i = 0; i < node.keys.length; i++) yield [node.keys[i]!, node.slots[i]!];
    return;
  }
  for (const child of node.children) yield* slotsOf(child);
}

/** An immutable `ReadonlyMap` whose {@link PersistentMap.with} costs O(the change), amortised. */
export class PersistentMap<V> implements ReadonlyMap<string, V> {
  readonly #base: ReadonlyMap<string, V>;
  readonly #overlay: Trie<V> | undefined;
  /** Names in the overlay. */
  readonly #changed: number;
  readonly #seq: number;
  readonly size: number;

  private constructor(
    base: ReadonlyMap<string, V>,
    overlay: Trie<V> | undefined,
    changed: number,
    seq: number,
    size: number,
  ) {
    this.#base = base;
    this.#overlay = overlay;
    this.#changed = changed;
    this.#seq = seq;
    this.size = size;
  }

  /** A map over `base`, which must never change afterwards (it is shared, not copied). */
  static of<V>(base: ReadonlyMap<string, V>): PersistentMap<V> {
    return base instanceof PersistentMap
      ? (base as PersistentMap<V>)
      : new PersistentMap(base, undefined, 0, 0, base.size);
  }

  /** A new map with `set` put (added or replaced) and `removed` dropped; this one is unchanged. */
  with(set: Iterable<readonly [string, V]>, removed: Iterable<string>): PersistentMap<V> {
    let base = this.#base;
    let overlay = this.#overlay;
    let changed = this.#changed;
    let seq = this.#seq;
    let size = this.size;
    // Folding costs O(base); it happens once the overlay reaches half the base, so each change pays O(1) for it.
    if (changed > 16 && changed * 2 > base.size) {
      const flat = new Map<string, V>();
      for (const [key, value] of this) flat.set(key, value);
      copied += flat.size;
      base = flat;
      overlay = undefined;
      changed = 0;
      seq = 0;
    }
    const change = (key: string, value: V | undefined): void => {
      const hash = hashOf(key);
      const slot = lookup(overlay, hash, key);
      const inBase = base.has(key);
      const present = slot === undefined ? inBase : slot.value !== undefined;
      let next: Slot<V> | undefined;
      if (value === undefined) {
        if (!present) return;
        // A name only the overlay held leaves it; a base name is marked removed.
        next = inBase ? { value: undefined, appended: false, seq: 0 } : undefined;
        size--;
      } else if (present) {
        next = slot === undefined ? { value, appended: false, seq: 0 } : { ...slot, value };
      } else {
        next = { value, appended: true, seq: seq++ };
        size++;
      }
      if (slot === undefined && next !== undefined) changed++;
      else if (slot !== undefined && next === undefined) changed--;
      overlay = put(overlay, hash, key, next, 0);
    };
    for (const key of removed) change(key, undefined);
    for (const [key, value] of set) change(key, value);
    return new PersistentMap(base, overlay, changed, seq, size);
  }

  get(key: string): V | undefined {
    const slot = this.#overlay === undefined ? undefined : lookup(this.#overlay, hashOf(key), key);
    return slot === undefined ? this.#base.get(key) : slot.value;
  }

  has(key: string): boolean {
    const slot = this.#overlay === undefined ? undefined : lookup(this.#overlay, hashOf(key), key);
    return slot === undefined ? this.#base.has(key) : slot.value !== undefined;
  }

  *entries(): MapIterator<[string, V]> {
    const overlay = this.#overlay;
    if (overlay === undefined) {
      yield* this.#base.entries();
      return;
    }
    for (const [key, value] of this.#base) {
      const slot = lookup(overlay, hashOf(key), key);
      if (slot === undefined) yield [key, value];
      else if (slot.value !== undefined && !slot.appended) yield [key, slot.value];
    }
    const appended: [string, Slot<V>][] = [];
    for (const item of slotsOf(overlay))
      if (item[1].appended && item[1].value !== undefined) appended.push(item);
    appended.sort((a, b) => a[1].seq - b[1].seq);
    for (const [key, slot] of appended) yield [key, slot.value!];
  }

  *keys(): MapIterator<string> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): MapIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }

  forEach(callback: (value: V, key: string, map: ReadonlyMap<string, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.entries()) callback.call(thisArg, value, key, this);
  }
}
