// publishModel in time slices (rule L4: nothing a file or a registry holds may stall the server). A model at the
// limits (1,000 endpoints x 99 subsets: 100,000 generated endpoints) took the event loop for 4.2 s per change at
// load 48, in one piece: half of it building and hashing ClusterLoadAssignments in the generator, a fifth encoding
// them in Snapshot.create/update, most of the rest garbage collection. Here the same work runs in slices of a few
// milliseconds: generation step by step (steps.ts; an assignment 250 endpoints a step, assignment-steps.ts), then
// each new resource's encoding (an assignment's by parts), then the snapshot update, which finds every resource
// encoded and only swaps entries. The memo keeps unchanged resources the very same
// objects (so an endpoint-only change still wakes only EDS watches), snapshots are set only once every flavour is
// complete, and a newer publish to the same cache supersedes this one (in-flight.ts).
import type { Message } from '@bufbuild/protobuf';
import { TypeUrl } from '@xds/api';
import { encodeResource, type Snapshot, type SnapshotCache } from '@xds/cache';
import { encodeAssignmentSteps, isAssignment } from '../generate/assignment-steps.js';
import { type Flavour, flavours } from '../generate/flavour.js';
import { defaultMemo } from '../generate/memo.js';
import { generateSteps } from '../generate/snapshot.js';
import { runSliced, type SliceOptions, type Steps } from '../generate/steps.js';
import type { ServiceModel } from '../model/types.js';
import { begin } from './in-flight.js';
import { type PublishedSnapshot, type PublishModelOptions, setSnapshots } from './publish.js';

/** Options of {@link publishModelAsync}: those of `publishModel`, and how the work is sliced. */
export interface PublishModelAsyncOptions extends PublishModelOptions, SliceOptions {}

/** Assignments encoded here in steps (the flavours share them: the second finds them encoded). */
const encodedInSteps = new WeakSet<Message>();

/**
 * Encodes each resource, one step each, before the snapshot update needs it (once per message object: one the
 * cache holds already is found, not encoded again). A new ClusterLoadAssignment is encoded `endpointsPerStep`
 * endpoints a step (assignment-steps.ts): one may hold 100,000 endpoints.
 */
function* encodeSteps(resources: readonly Message[], previous: Snapshot | undefined): Steps<void> {
  const held = previous?.entries(TypeUrl.Endpoint);
  for (const message of resources) {
    if (!isAssignment(message)) encodeResource(message);
    else if (!encodedInSteps.has(message) && held?.get(message.clusterName)?.decoded !== message) {
      const bytes = yield* encodeAssignmentSteps(message);
      encodeResource(message, { bytes });
      encodedInSteps.add(message);
    }
    yield;
  }
}

/**
 * {@link publishModel} without stalling the event loop: generates each flavour's resources and encodes the new
 * ones in slices of about `sliceMs` (default 5 ms) with a turn of the event loop between them, then sets every
 * flavour's snapshot at once. Resolves with what was set, as `publishModel` returns it.
 *
 * - A publish to the same cache that starts meanwhile (this function or `publishModel`) supersedes this one: it
 *   rejects with an XdsError (CANCELLED, "publish superseded") at its next pause and sets nothing. So snapshots
 *   are set in the order the models were published, never an older after a newer, and an overtaken publish costs
 *   at most one more slice. The same happens when another caller sets one of the flavours' snapshots meanwhile.
 * - `signal` stops it the same way, rejecting with the signal's reason.
 * - A model that cannot be generated rejects with the error `publishModel` throws; nothing is set, and the memo
 *   keeps what the cache's current snapshots use.
 */
export async function publishModelAsync(
  cache: SnapshotCache,
  model: ServiceModel,
  options: PublishModelAsyncOptions = {},
): Promise<Record<Flavour, PublishedSnapshot | undefined>> {
  const memo = options.memo ?? defaultMemo;
  const wanted = options.flavours ?? flavours;
  const publish = begin(cache);
  const signal =
    options.signal === undefined ? publish.signal : AbortSignal.any([publish.signal, options.signal]);
  const slices: SliceOptions = {
    signal,
    ...(options.sliceMs === undefined ? {} : { sliceMs: options.sliceMs }),
    ...(options.onPause === undefined ? {} : { onPause: options.onPause }),
  };
  const previous = new Map(wanted.map((flavour) => [flavour, cache.getSnapshot(flavour)]));
  const generated = new Map<Flavour, Message[]>();
  let out: Record<Flavour, PublishedSnapshot | undefined> | undefined;
  // Each flavour's memo generation is nested in the previous one's, so that all of them take effect (or none) when
  // the snapshots are set, in the innermost.
  const generateFrom = async (index: number): Promise<void> => {
    const flavour = wanted[index];
    if (flavour === undefined) {
      signal.throwIfAborted();
      out = setSnapshots(cache, generated, previous);
      return;
    }
    const steps = generateSteps(model, flavour, options);
    await memo.generationAsync({ owner: cache, slot: flavour }, async (slice) => {
      const resources = await runSliced(steps, slices, slice);
      await runSliced(encodeSteps(resources, previous.get(flavour)), slices);
      generated.set(flavour, resources);
      await generateFrom(index + 1);
    });
  };
  try {
    await generateFrom(0);
  } finally {
    publish.done();
  }
  return out!;
}
