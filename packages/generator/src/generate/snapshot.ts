import type { Message } from '@bufbuild/protobuf';
import { Snapshot, type SnapshotOptions } from '@xds/cache';
import type { ServiceModel } from '../model/types.js';
import { generateEnvoy } from './envoy.js';
import type { Flavour } from './flavour.js';
import type { GenerateOptions } from './generate-options.js';
import { generateGrpc } from './grpc.js';

/** The resources of a model for a flavour: {@link generateEnvoy} or {@link generateGrpc}. */
export function generate(model: ServiceModel, flavour: Flavour, options: GenerateOptions = {}): Message[] {
  return flavour === 'grpc' ? generateGrpc(model, options) : generateEnvoy(model, options);
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
