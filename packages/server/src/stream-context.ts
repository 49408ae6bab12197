import type { ServerDuplexStream, ServerUnaryCall } from '@grpc/grpc-js';

/** A gRPC server call of a stream or a unary fetch. */
export type ServerCall = ServerDuplexStream<unknown, unknown> | ServerUnaryCall<unknown, unknown>;

import type { ClientStatusRequest, Node, ResourceTypes, TypeUrl } from '@xds/api';
import type { ConfigWatcher } from '@xds/cache';
import type { EventEmitter } from 'eventemitter3';
import type { XdsServerEvents } from './events.js';
import type { XdsServerHooks } from './hooks.js';
import type { Limits, ResolvedLimits } from './limits.js';
import type { Logger } from './logger.js';
import type { PartialRequestBudget } from './partial-request-budget.js';
import type { StreamRegistry } from './stream-registry.js';
import type { WriteBudget } from './write-budget.js';

/**
 * Decides whether a node may open a stream or fetch (rule L6): false ends it with PERMISSION_DENIED. A hook that
 * throws or rejects with an `XdsError` ends it with that error's code and message (to refuse with UNAVAILABLE while
 * a backend is down, say); any other error also refuses (PERMISSION_DENIED, "authorize failed"; the error is logged,
 * not sent). The same holds on SotW and delta streams, Fetch and REST. `call` is the gRPC call (undefined for REST).
 */
export type Authorize = (node: Node, call: ServerCall | undefined) => boolean | Promise<boolean>;

/**
 * Decides whether a caller may read client status over CSDS (every matching node's config, rule L6): false ends the
 * call with PERMISSION_DENIED; a throw or rejection too, except that an `XdsError` keeps its code (as for
 * {@link Authorize}). It sees the request (node matchers, whether resource contents
 * are asked for) and the gRPC call, for the peer and its TLS identity (`call.getPeer()`, `call.getAuthContext()`).
 */
export type AuthorizeStatus = (request: ClientStatusRequest, call: ServerCall) => boolean | Promise<boolean>;

/** What every stream needs from the server that owns it. */
export interface StreamContext {
  readonly cache: ConfigWatcher;
  readonly events: EventEmitter<XdsServerEvents>;
  readonly logger: Logger;
  /** `control_plane.identifier` of every response; empty to leave it out. */
  readonly controlPlane: string;
  readonly authorize: Authorize | undefined;
  /** The application's hooks (none by default). */
  readonly hooks: XdsServerHooks;
  /** Who may read client status (CSDS); see `XdsServerOptions.authorizeStatus` for the default. */
  readonly authorizeStatus?: AuthorizeStatus | undefined;
  /** Bounds on what a client controls (rule L2). */
  readonly limits: ResolvedLimits;
  /** The server-wide bound on response bytes in flight. */
  readonly budget: WriteBudget;
  /** The server-wide account of request messages partly received (rule L2). */
  readonly partialRequests: PartialRequestBudget;
  /** The types the server serves (the cache's, else the built-in ones); others are served empty on ADS (S15). */
  readonly types: ResourceTypes;
  /** True for a type the server serves (rule S15: others are served empty on ADS). */
  servesType(typeUrl: string): boolean;
  /** Whether an empty name list may mean wildcard for this node and type (rule S9). */
  legacyWildcard(node: Node, typeUrl: TypeUrl): boolean;
  nextStreamId(): number;
  /** True once the server is closing: new streams and requests are refused with UNAVAILABLE. */
  readonly closing: boolean;
  /** Every stream from its headers to its end, and the limits across streams (rule L2). */
  readonly registry: StreamRegistry;
  /** A stream was ended because it went past a limit (counted in {@link XdsServer.streamStats}). */
  limitReached(limit: keyof Limits): void;
}

/** What the server keeps of a stream. */
export interface StreamHandle {
  readonly id: number;
  readonly nodeId: string;
  readonly node: Node | undefined;
  readonly kind: 'sotw' | 'delta';
  readonly ads: boolean;
  readonly types: ReadonlyMap<TypeUrl, import('./type-state.js').TypeState>;
  /** Ends the stream with a status. */
  end(code: number, reason: string): void;
}
