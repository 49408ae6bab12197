/**
 * Subscriptions interned by content: streams that subscribe to the same names (thousands of Envoys asking for
 * the same clusters' endpoints) share one frozen set instead of holding a copy each.
 *
 * Rule L5: the set is shared across nodes, so its key must be an unambiguous encoding of the names. Joined by a
 * separator, `["A\nB", "C"]` and `["A", "B", "C"]` had one key, and one node's subscription replaced another's.
 */
const interned = new Map<string, WeakRef<ReadonlySet<string>>>();
const collected = new FinalizationRegistry<string>((key) => {
  if (interned.get(key)?.deref() === undefined) interned.delete(key);
});

/** The sets that are interned already (handed out by internNames). */
const internedSets = new WeakSet<ReadonlySet<string>>();

/** The empty subscription. */
export const noNames: ReadonlySet<string> = Object.freeze(new Set<string>());

/** A shared, read-only set holding `names` (compared in iteration order). */
export function internNames(names: ReadonlySet<string>): ReadonlySet<string> {
  if (names.size === 0) return noNames;
  if (names.size < 4 || internedSets.has(names)) return names;
  const key = internKey(names);
  const known = interned.get(key)?.deref();
  if (known !== undefined) return known;
  interned.set(key, new WeakRef(names));
  internedSets.add(names);
  collected.register(names, key);
  return names;
}

/** Each name preceded by its length: no two lists of names share a key, whatever characters they hold (rule L5). */
export function internKey(names: Iterable<string>): string {
  let key = '';
  for (const name of names) key += `${name.length}:${name}`;
  return key;
}
