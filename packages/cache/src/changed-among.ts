// What a push sends to SotW streams of a non-full-state type (ClusterLoadAssignment, RouteConfiguration) that
// held exactly their subscription of a snapshot: the subscribed names among those the cache said changed, whose
// version differs. A push of 1% of the assignments to 10,000 streams of one snapshot is then one list, computed
// once in O(the change) and encoded once (rules S8, R3), and each stream holds the new snapshot as two references
// (bench scenario 1).
import type { EncodedResource } from './encoded-resource.js';
import type { ResourceView } from './watch-source.js';

/** The response of a subscription that held `before` when the names of `pending` changed. */
export interface ChangedAmong {
  readonly before: ReadonlyMap<string, EncodedResource>;
  readonly view: ResourceView;
  readonly pending: ReadonlySet<string>;
  /** The resources to send; frozen (and shared) when the change was shared. */
  readonly resources: readonly EncodedResource[];
  /** The names in `resources` that `before` held at another version. */
  readonly changed: readonly string[];
}

/** Recent lists per subscription, newest first: streams of two snapshots at once (a push during a push) share too. */
const recent = new WeakMap<ReadonlySet<string>, ChangedAmong[]>();
const maxRecent = 4;

function compute(
  names: ReadonlySet<string>,
  before: ReadonlyMap<string, EncodedResource>,
  view: ResourceView,
  pending: ReadonlySet<string>,
): { resources: EncodedResource[]; changed: string[] } {
  const resources: EncodedResource[] = [];
  const changed: string[] = [];
  for (const name of pending) {
    if (!names.has(name)) continue;
    const entry = view.entries.get(name);
    if (entry === undefined) continue;
    const held = before.get(name);
    if (held?.version === entry.version) continue;
    resources.push(entry);
    if (held !== undefined) changed.push(name);
  }
  return { resources, changed };
}

/**
 * The subscribed resources of `view`, among the names of `pending`, whose version differs from `before` (new ones
 * included). `pending` must hold every name whose resource differs between `before` and `view` (what a cache's
 * notifications say), so that a stream that held `before` restricted to `names` holds `view` restricted to them
 * afterwards. With `shared` (the cache gave `pending` to many watches and never changes it), the result is frozen
 * and remembered for the next stream of the same subscription, snapshots and change.
 */
export function changedAmong(
  names: ReadonlySet<string>,
  before: ReadonlyMap<string, EncodedResource>,
  view: ResourceView,
  pending: ReadonlySet<string>,
  shared: boolean,
): ChangedAmong {
  if (!shared) return { before, view, pending, ...compute(names, before, view, pending) };
  let lists = recent.get(names);
  if (lists !== undefined) {
    for (const known of lists)
      if (known.pending === pending && known.view === view && known.before === before) return known;
  } else {
    lists = [];
    recent.set(names, lists);
  }
  const { resources, changed } = compute(names, before, view, pending);
  const list: ChangedAmong = { before, view, pending, resources: Object.freeze(resources), changed };
  lists.unshift(list);
  if (lists.length > maxRecent) lists.length = maxRecent;
  return list;
}
