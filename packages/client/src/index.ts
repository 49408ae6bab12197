/**
 * `@xds/client`: a production xDS client on `@grpc/grpc-js`: ADS over SotW or delta, watches, a validation hook,
 * reconnect with backoff to the next server, and resume without resends (rules S13, D6).
 *
 * @packageDocumentation
 */
export { Backoff } from './backoff.js';
export type {
  AckSentEvent,
  ConnectedEvent,
  DisconnectedEvent,
  NackSentEvent,
  ReconnectingEvent,
  UpdateEvent,
  XdsClientEvents,
} from './events.js';
export {
  type BackoffOptions,
  type ClientLimitName,
  type ClientLimits,
  type ClientLogger,
  defaultClientLimits,
  type NodeInit,
  type Protocol,
  type ResolvedClientLimits,
  resolveClientLimits,
  type Validate,
  type XdsClientOptions,
} from './options.js';
export type { RequestBacklog } from './request-sender.js';
export type { XdsResource } from './resource.js';
export type { WatchUpdate } from './type-state.js';
export type { WatchHandle } from './watch-handle.js';
export { XdsClient } from './xds-client.js';
