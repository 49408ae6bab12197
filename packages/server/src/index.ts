/**
 * `@xds/server`: the xDS gRPC server on `@grpc/grpc-js`.
 *
 * @packageDocumentation
 */

export { type BoundedRead, readBoundedFile } from './bounded-file.js';
export type { ClientInfo, ClientsOptions, TypeStatus } from './client-status.js';
export type { ConnectionLimit, ConnectionStats } from './connection-gate.js';
export {
  clientStatus,
  clientStatusBytes,
  type StatusBuildOptions,
  type StatusLimit,
  type StatusLimits,
} from './csds.js';
export type { StatusCallStats } from './csds-service.js';
export { cutForDisplay } from './display-cut.js';
export type {
  AckEvent,
  NackEvent,
  RequestEvent,
  ResponseEvent,
  StreamCloseEvent,
  StreamKind,
  StreamOpenEvent,
  XdsServerEvents,
} from './events.js';
export type {
  HookContext,
  HookKind,
  HookName,
  HookResponse,
  HookResult,
  XdsServerHooks,
} from './hooks.js';
export {
  composeAuthorize,
  describeIdentity,
  type IdentityGrant,
  istioNodeNamespace,
  matchesWildcard,
  type NodeIdentityOptions,
  nodeIdentityCheck,
  type PeerIdentity,
  parseSpiffeId,
  parseSubjectAltNames,
  peerIdentityOf,
  type SpiffeId,
} from './identity.js';
export { defaultLimits, type Limits, type ResolvedLimits } from './limits.js';
export { type Logger, silentLogger } from './logger.js';
export type { MatcherBudget, MatcherLimits, RequestMatchers } from './matcher-budget.js';
export { fixedNodeReleases, nodeHasHttp2Fix, nodeHttp2Warning } from './node-support.js';
export type { KeepaliveOptions, XdsServerOptions } from './options.js';
export type { PartialRequestLimit, PartialRequestStats } from './partial-request-budget.js';
export type { RestConnectionStats } from './rest-listener.js';
export type { SessionErrorRecord, SessionErrorStats } from './session-errors.js';
export { guardGrpcServer } from './session-guard.js';
export type { Authorize, AuthorizeStatus, ServerCall } from './stream-context.js';
export { compileRe2, compileStringMatcher, matchesString, type StringPredicate } from './string-matcher.js';
export {
  createServerTls,
  maxPemFileBytes,
  type PemSource,
  ServerTls,
  type ServerTlsEvents,
  type TlsMaterial,
  type TlsOptions,
  type TlsReloadFailure,
} from './tls.js';
export type { TypeServiceOptions } from './type-service.js';
export type { NackInfo, SyncStatus } from './type-state.js';
export type { WriteBudgetOptions, WriteBudgetStats } from './write-budget.js';
export { addXdsServices, type ListenOptions, type StreamStats, XdsServer } from './xds-server.js';
