/**
 * Subscriptions interned by content: streams that subscribe to the same names (thousands of Envoys asking for
 * the same clusters' endpoints) share one frozen set instead of holding a copy each.
 *
 * Rule L5: the set is shared across nodes, so its key must be an unambiguous encoding of the names. Joined by a
 * separator, `["A\nB", "C"]` and `["A", "B", "C"]` had one key, and one node's subscription replaced another's.
 * The key is a SHA-256 digest of the length-prefixed names, not the encoding itself: a key holding the names again
 * doubled the memory of every distinct subscription (200,000 names of 50 bytes kept 10 MB more per list). A found
 * set is compared name by name before it is shared, so even a digest collision cannot hand one node another's set.
 */
import { createHash } from 'node:crypto';

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
  if (known !== undefined) return sameInOrder(known, names) ? known : names;
  interned.set(key, new WeakRef(names));
  internedSets.add(names);
  collected.register(names, key);
  return names;
}

/** Text hashed at once: names are fed to the digest in chunks of about this many characters. */
const chunkChars = 64 * 1024;

/**
 * A digest of each name preceded by its length: no two lists of names share a key, whatever characters they hold
 * (rule L5), and the key is 43 characters whatever the list's size.
 */
export function internKey(names: Iterable<string>): string {
  const hash = createHash('sha256');
  let chunk = '';
  for (const name of names) {
    chunk += `${name.length}:${name}`;
    if (chunk.length >= chunkChars) {
      hash.update(chunk, 'utf8');
      chunk = '';
    }
  }
  hash.update(chunk, 'utf8');
  return hash.digest('base64url');
}

function sameInOrder(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  const other = b.values();
  for (const name of a) if (other.next().value !== name) return false;
  return true;
}
