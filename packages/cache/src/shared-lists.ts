// Lists that many SotW streams would otherwise each compute: what a subscription gets from a snapshot, what
// changed between two snapshots. Streams with the same (interned) subscription and the same snapshots get the very
// same frozen array, so the server also encodes its response body once (rule R3).
import type { EncodedResource } from './encoded-resource.js';
import type { ResourceView } from './watch-source.js';

const everything = new WeakMap<ResourceView, readonly EncodedResource[]>();

/** Every resource of a view, as one array shared by all the responses that send the whole type. */
export function allOf(view: ResourceView): readonly EncodedResource[] {
  let all = everything.get(view);
  if (all === undefined) {
    all = Object.freeze([...view.entries.values()]);
    everything.set(view, all);
  }
  return all;
}

const changes = new WeakMap<
  ReadonlyMap<string, EncodedResource>,
  { readonly view: ResourceView; readonly names: readonly string[] }
>();

/**
 * The names of `before` whose version differs in `view`: what changed for a stream that held `before` as it was.
 * Computed once for all the (wildcard) streams that held the same snapshot.
 */
export function changedBetween(
  before: ReadonlyMap<string, EncodedResource>,
  view: ResourceView,
): readonly string[] {
  const known = changes.get(before);
  if (known?.view === view) return known.names;
  const names: string[] = [];
  for (const entry of allOf(view)) {
    const held = before.get(entry.name);
    if (held !== undefined && held.version !== entry.version) names.push(entry.name);
  }
  changes.set(before, { view, names });
  return names;
}

const subscribedLists = new WeakMap<
  ReadonlySet<string>,
  { readonly view: ResourceView; readonly resources: readonly EncodedResource[] }
>();

/** The resources of `view` that a subscription names, in the subscription's order (S10: missing ones left out). */
export function subscribedList(names: ReadonlySet<string>, view: ResourceView): readonly EncodedResource[] {
  const known = subscribedLists.get(names);
  if (known?.view === view) return known.resources;
  const resources: EncodedResource[] = [];
  for (const name of names) {
    const entry = view.entries.get(name);
    if (entry !== undefined) resources.push(entry);
  }
  const frozen = Object.freeze(resources);
  subscribedLists.set(names, { view, resources: frozen });
  return frozen;
}

/** What a subscription must be sent after holding `before`, and which of those it held at another version. */
export interface ChangedList {
  readonly before: ReadonlyMap<string, EncodedResource>;
  readonly view: ResourceView;
  readonly resources: readonly EncodedResource[];
  readonly changed: readonly string[];
}

const changedLists = new WeakMap<ReadonlySet<string>, ChangedList>();

/** The subscribed resources of `view` whose version differs from `before` (new ones included). */
export function changedList(
  names: ReadonlySet<string>,
  before: ReadonlyMap<string, EncodedResource>,
  view: ResourceView,
): ChangedList {
  const known = changedLists.get(names);
  if (known?.view === view && known.before === before) return known;
  const resources: EncodedResource[] = [];
  const changed: string[] = [];
  for (const name of names) {
    const entry = view.entries.get(name);
    if (entry === undefined) continue;
    const held = before.get(name);
    if (held?.version === entry.version) continue;
    resources.push(entry);
    if (held !== undefined) changed.push(name);
  }
  const list = { before, view, resources: Object.freeze(resources), changed };
  changedLists.set(names, list);
  return list;
}

const coverage = new WeakMap<
  readonly string[],
  { readonly subscription: ReadonlySet<string>; readonly covers: boolean }
>();

/**
 * True when `wanted` (the subscribed ones of `names`) is every name of `subscription`; remembered per list, which
 * the server shares between streams (the endpoints that follow a shared list of changed Clusters).
 */
export function coversAll(
  names: Iterable<string>,
  wanted: readonly string[],
  subscription: ReadonlySet<string>,
): boolean {
  if (wanted.length < subscription.size) return false;
  const key = Array.isArray(names) ? (names as readonly string[]) : undefined;
  const known = key === undefined ? undefined : coverage.get(key);
  if (known?.subscription === subscription) return known.covers;
  const covers = new Set(wanted).size === subscription.size;
  if (key !== undefined) coverage.set(key, { subscription, covers });
  return covers;
}
