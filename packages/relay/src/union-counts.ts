// What a relay group's watches subscribe to, counted per type (rule X4): each name's watches, the wildcard's, and
// what the union gained and lost since the group's upstream last took it (rule L2: O(the change)). Kept apart from
// relay-cache.ts so that the cache stays one concept.
import type { TypeUrl } from '@xds/api';
import type { NameBudget } from './relay-budget.js';

/** What a group's union gained and lost since its upstream last took it. */
export interface Pending {
  readonly added: Set<string>;
  readonly removed: Set<string>;
}

/** A group's union of one type: how many watches hold the wildcard and each name. */
export interface Counts {
  wildcard: number;
  readonly names: Map<string, number>;
  /** Bytes of the union's names (UTF-8). */
  bytes: number;
  /** What the union gained and lost since the upstream last took it (outlives the group's idle spells). */
  readonly pending: Pending;
}

/**
 * Counts one watch's name in or out of its group's union (and the relay-wide `names` budget), noting when the union
 * gains or loses it; true when the union gained it.
 */
export function countName(names: NameBudget, counts: Counts, name: string, delta: 1 | -1): boolean {
  const next = (counts.names.get(name) ?? 0) + delta;
  if (next > 0) {
    counts.names.set(name, next);
    if (next !== 1 || delta !== 1) return false;
    const bytes = Buffer.byteLength(name);
    counts.bytes += bytes;
    names.count(1, bytes);
    if (!counts.pending.removed.delete(name)) counts.pending.added.add(name);
    return true;
  }
  if (!counts.names.delete(name)) return false;
  const bytes = Buffer.byteLength(name);
  counts.bytes -= bytes;
  names.count(-1, bytes);
  if (!counts.pending.added.delete(name)) counts.pending.removed.add(name);
  return false;
}

/**
 * Throws RESOURCE_EXHAUSTED (rule L2) when `added` and `removed` would take a group's union past a bound of `names`:
 * its names or their bytes, of the group or of every group together. O(the change).
 */
export function checkUnion(
  names: NameBudget,
  group: string,
  typeUrl: TypeUrl,
  counts: Counts,
  added: readonly string[],
  removed: readonly string[],
): void {
  const size = counts.names.size;
  let gainBytes = 0;
  for (const name of added) gainBytes += Buffer.byteLength(name);
  if (names.surelyFits(size, added.length, counts.bytes, gainBytes)) return;
  let next = size;
  let nextBytes = counts.bytes;
  for (const name of added)
    if (!counts.names.has(name)) {
      next++;
      nextBytes += Buffer.byteLength(name);
    }
  for (const name of removed)
    if (counts.names.get(name) === 1) {
      next--;
      nextBytes -= Buffer.byteLength(name);
    }
  names.check(group, typeUrl, size, next, counts.bytes, nextBytes);
}
