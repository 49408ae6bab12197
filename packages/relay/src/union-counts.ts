// What a relay group's watches subscribe to, counted per type (rule X4): each name's watches, the wildcard's, and
// what the union gained and lost since the group's upstream last took it (rule L2: O(the change)). Kept apart from
// relay-cache.ts so that the cache stays one concept.
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
    names.count(1);
    if (!counts.pending.removed.delete(name)) counts.pending.added.add(name);
    return true;
  }
  counts.names.delete(name);
  names.count(-1);
  if (!counts.pending.added.delete(name)) counts.pending.removed.add(name);
  return false;
}
