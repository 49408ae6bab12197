import type { Message } from '@bufbuild/protobuf';
import { resourceName, type TypeUrl, typeUrlOf } from '@xds/api';
import { Snapshot, type SnapshotCache, type SnapshotChanges } from '@xds/cache';
import { type Flavour, flavours } from '../generate/flavour.js';
import type { GenerateOptions } from '../generate/generate-options.js';
import { generate } from '../generate/snapshot.js';
import type { ServiceModel } from '../model/types.js';
import { supersede, supersededError } from './in-flight.js';

/** What {@link publishModel} did for one flavour. */
export interface PublishedSnapshot {
  /** The snapshot now set (the previous one when nothing changed). */
  readonly snapshot: Snapshot;
  /** The snapshot it replaced, if any. */
  readonly previous: Snapshot | undefined;
  /** The names that changed, by type; empty when nothing did. */
  readonly changes: SnapshotChanges;
}

/** Options of {@link publishModel}: the memo's owner is the cache, one slot per flavour. */
export interface PublishModelOptions extends Omit<GenerateOptions, 'owner' | 'slot'> {
  /** The flavours to publish; default both. */
  readonly flavours?: readonly Flavour[];
}

function byType(resources: readonly Message[]): Map<TypeUrl, Map<string, Message>> {
  const out = new Map<TypeUrl, Map<string, Message>>();
  for (const message of resources) {
    const typeUrl = typeUrlOf(message)!;
    let names = out.get(typeUrl);
    if (names === undefined) {
      names = new Map();
      out.set(typeUrl, names);
    }
    names.set(resourceName(message), message);
  }
  return out;
}

/**
 * The next snapshot after `previous` with exactly `resources`: made by `previous.update`, so that only resources
 * that are not the very same objects are touched, and every type whose content did not change keeps its version.
 */
export function nextSnapshot(previous: Snapshot | undefined, resources: readonly Message[]): Snapshot {
  if (previous === undefined) return Snapshot.create(resources);
  const wanted = byType(resources);
  return previous.update((draft) => {
    const types = new Set<TypeUrl>([...wanted.keys(), ...previous.typeUrls()]);
    for (const typeUrl of types) {
      const next = wanted.get(typeUrl) ?? new Map<string, Message>();
      const before = previous.resources(typeUrl);
      const record = draft[typeUrl] as Record<string, unknown>;
      for (const name of before.keys()) if (!next.has(name)) delete record[name];
      for (const [name, message] of next) if (before.get(name) !== message) record[name] = message;
    }
  });
}

/**
 * Generates a model's resources for each flavour and sets them in a SnapshotCache keyed by
 * {@link nodeKeyByFlavour} (keys `'envoy'` and `'grpc'`). Resources that did not change are the same objects as in
 * the previous snapshot, so after an endpoint-only change only ClusterLoadAssignments change: the Cluster,
 * Listener and Route versions stay equal and only EDS watches are woken. Each flavour's generation is owned by
 * `cache` (slot: the flavour), so the memo keeps what the cache's latest snapshots use and lets go of the rest.
 * Runs on the caller's stack in one piece: a server should use {@link publishModelAsync}, which gives the event
 * loop turns. A `publishModelAsync` under way to the same cache is superseded (it sets nothing).
 */
export function publishModel(
  cache: SnapshotCache,
  model: ServiceModel,
  options: PublishModelOptions = {},
): Record<Flavour, PublishedSnapshot | undefined> {
  supersede(cache);
  const out: Record<Flavour, PublishedSnapshot | undefined> = { envoy: undefined, grpc: undefined };
  for (const flavour of options.flavours ?? flavours) {
    const previous = cache.getSnapshot(flavour);
    const snapshot = nextSnapshot(
      previous,
      generate(model, flavour, { ...options, owner: cache, slot: flavour }),
    );
    if (snapshot !== previous) cache.setSnapshot(flavour, snapshot);
    out[flavour] = { snapshot, previous, changes: snapshot.changesSince(previous) };
  }
  return out;
}

/**
 * Sets the snapshots of every flavour in `generated` at once (after computing them all: one that fails sets none),
 * each the next after the snapshot `previous` says the cache held when the publish began. Throws the superseded
 * error when the cache holds another by now: someone set a newer one meanwhile.
 */
export function setSnapshots(
  cache: SnapshotCache,
  generated: ReadonlyMap<Flavour, readonly Message[]>,
  previous: ReadonlyMap<Flavour, Snapshot | undefined>,
): Record<Flavour, PublishedSnapshot | undefined> {
  const out: Record<Flavour, PublishedSnapshot | undefined> = { envoy: undefined, grpc: undefined };
  for (const [flavour, resources] of generated) {
    const before = previous.get(flavour);
    if (cache.getSnapshot(flavour) !== before) throw supersededError();
    const snapshot = nextSnapshot(before, resources);
    out[flavour] = { snapshot, previous: before, changes: snapshot.changesSince(before) };
  }
  for (const flavour of generated.keys()) {
    const result = out[flavour]!;
    if (result.snapshot !== result.previous) cache.setSnapshot(flavour, result.snapshot);
  }
  return out;
}
