// The options every generator takes: where built resources are remembered, and whose generation this is, so
// that the memo keeps what the live models use and no more (rule R3: same objects, encoded once); and which route
// fields each flavour's clients get (README, "Client compatibility").
import type { RouteFields } from '../builders/route-fields.js';
import type { Flavour } from './flavour.js';
import type { MemoOwner, ResourceMemo } from './memo.js';

/** Options of the generators. */
export interface GenerateOptions {
  /** Where built resources are remembered for reuse; default a memo shared by the process. */
  readonly memo?: ResourceMemo;
  /**
   * What holds the result (a `SnapshotCache`…): the memo keeps what this owner's latest generation (per
   * {@link slot}) used, so that its next generation shares it, and lets go of what it stopped using. Without an
   * owner, what the generation built is only spare, kept while the memo's spare bounds allow.
   */
  readonly owner?: object;
  /** Which of the owner's results this is (a snapshot key, a flavour); default `''`. Needs {@link owner}. */
  readonly slot?: string;
  /**
   * Which generation of route fields each flavour gets (see `RouteFields` and the README's "Client compatibility"):
   * default `{ envoy: 'current', grpc: 'compatible' }`, which every supported client accepts. Set `envoy:
   * 'compatible'` only for Envoy older than 1.24, which reads an unset `total_weight` as 100.
   */
  readonly routeFields?: Readonly<Partial<Record<Flavour, RouteFields>>>;
}

/** The memo owner that `options` name, if any. */
export function memoOwner(options: GenerateOptions): MemoOwner | undefined {
  if (options.owner === undefined) return undefined;
  return options.slot === undefined ? { owner: options.owner } : { owner: options.owner, slot: options.slot };
}

/** The route field generation of each flavour when {@link GenerateOptions.routeFields} does not say. */
export const defaultRouteFields: Readonly<Record<Flavour, RouteFields>> = Object.freeze({
  envoy: 'current',
  grpc: 'compatible',
});

/** The route field generation `options` give `flavour`; throws a TypeError for a value that is not one. */
export function routeFieldsFor(options: GenerateOptions, flavour: Flavour): RouteFields {
  const fields = options.routeFields?.[flavour] ?? defaultRouteFields[flavour];
  if (fields !== 'current' && fields !== 'compatible')
    throw new TypeError(`routeFields.${flavour} must be 'current' or 'compatible', got ${String(fields)}`);
  return fields;
}
