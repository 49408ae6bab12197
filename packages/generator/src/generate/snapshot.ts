import type { Message } from '@bufbuild/protobuf';
import { Snapshot, type SnapshotOptions } from '@xds/cache';
import type { ServiceModel } from '../model/types.js';
import { envoySteps, generateEnvoy } from './envoy.js';
import type { Flavour } from './flavour.js';
import { type GenerateOptions, memoOwner, routeFieldsFor } from './generate-options.js';
import { generateGrpc, grpcSteps } from './grpc.js';
import { defaultMemo } from './memo.js';
import { runSliced, type SliceOptions, type Steps } from './steps.js';

/** The resources of a model for a flavour: {@link generateEnvoy} or {@link generateGrpc}. */
export function generate(model: ServiceModel, flavour: Flavour, options: GenerateOptions = {}): Message[] {
  return flavour === 'grpc' ? generateGrpc(model, options) : generateEnvoy(model, options);
}

/**
 * {@link generate}'s work in steps (one per cluster, per service, per port), for a caller that runs it in slices
 * inside its own memo generation (as `publishModelAsync` does). Throws a TypeError at once for bad `routeFields`.
 */
export function generateSteps(
  model: ServiceModel,
  flavour: Flavour,
  options: GenerateOptions = {},
): Steps<Message[]> {
  const memo = options.memo ?? defaultMemo;
  const fields = routeFieldsFor(options, flavour);
  return flavour === 'grpc' ? grpcSteps(model, fields, memo) : envoySteps(model, fields, memo);
}

/**
 * {@link generate} in time slices (rule L4): the same resources (the very same objects, through the memo), built
 * in slices of about `sliceMs` with a turn of the event loop between them, so that a model at the limits does not
 * stall the server. Rejects with the signal's reason when `signal` is aborted; the owner's slot then keeps its
 * previous generation.
 */
export function generateAsync(
  model: ServiceModel,
  flavour: Flavour,
  options: GenerateOptions & SliceOptions = {},
): Promise<Message[]> {
  const memo = options.memo ?? defaultMemo;
  const steps = generateSteps(model, flavour, options);
  return memo.generationAsync(memoOwner(options), (slice) => runSliced(steps, options, slice));
}

/** Options of {@link buildSnapshot}. */
export interface BuildSnapshotOptions extends GenerateOptions {
  /** Passed to `Snapshot.create` (versions default to content hashes). */
  readonly snapshot?: SnapshotOptions;
}

/** A snapshot of a model's resources for a flavour; it passes `snapshot.check()`. */
export function buildSnapshot(
  model: ServiceModel,
  flavour: Flavour,
  options: BuildSnapshotOptions = {},
): Snapshot {
  return Snapshot.create(generate(model, flavour, options), options.snapshot);
}
