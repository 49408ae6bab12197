/**
 * The names of a view that start with a prefix, found without walking the view (rule L2). A stream that subscribes
 * a glob (`foo/*`, LEDS-style names) must be sent every matching resource; finding them by walking every name of
 * the snapshot made each glob subscription cost O(snapshot), so a client that subscribes and unsubscribes one glob
 * in a loop made the server walk the whole snapshot per request. The view's names are sorted once (lazily, on the
 * first glob lookup against that view, shared by every watch) and a prefix is then a binary search plus its matches.
 */

interface Sorted {
  readonly version: string;
  readonly size: number;
  readonly names: readonly string[];
}

const sortedOf = new WeakMap<ReadonlyMap<string, unknown>, Sorted>();

/**
 * Names sorted for the prefix lookups since the process started: a count of work for tests and benchmarks (a view
 * is sorted once, however many globs are looked up in it).
 */
export const prefixLookupWork = { namesSorted: 0 };

/** The names of `entries`, sorted by UTF-16 code units; cached per map, rebuilt if the version or size changed. */
function sortedNames(entries: ReadonlyMap<string, unknown>, version: string): readonly string[] {
  const known = sortedOf.get(entries);
  if (known !== undefined && known.version === version && known.size === entries.size) return known.names;
  const names = [...entries.keys()].sort();
  prefixLookupWork.namesSorted += names.length;
  sortedOf.set(entries, { version, size: entries.size, names });
  return names;
}

/** Calls `visit` with every name of `entries` that starts with `prefix`: O(log n) plus the matches. */
export function forEachNameWithPrefix(
  entries: ReadonlyMap<string, unknown>,
  version: string,
  prefix: string,
  visit: (name: string) => void,
): void {
  const names = sortedNames(entries, version);
  let low = 0;
  let high = names.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (names[mid]! < prefix) low = mid + 1;
    else high = mid;
  }
  for (let i = low; i < names.length && names[i]!.startsWith(prefix); i++) visit(names[i]!);
}
