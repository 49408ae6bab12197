import type { ServerOptions } from '@grpc/grpc-js';
import type { Node, ResourceTypes, TypeUrl } from '@xds/api';
import type { ConfigWatcher } from '@xds/cache';
import type { XdsServerHooks } from './hooks.js';
import type { NodeIdentityOptions } from './identity.js';
import type { Limits, ResolvedLimits } from './limits.js';
import type { Logger } from './logger.js';
import type { Authorize, AuthorizeStatus } from './stream-context.js';
import type { WriteBudgetOptions } from './write-budget.js';

/**
 * HTTP/2 keepalive of the xDS server. A ping waits behind every byte already queued for its connection, so the
 * timeout is above the S12 drain time (`limits.drainTimeoutMs`, 30 s): a shorter one drops a slow reader the drain
 * rule lets catch up (at load 45, 85 of 100 connections of a big push were lost with 30 s / 10 s). A ping every
 * 2 minutes still finds a dead peer (no FIN, no RST) within 3 minutes.
 */
export interface KeepaliveOptions {
  /** Ping a connection after this long (ms); default 2 min. */
  readonly timeMs?: number;
  /** Close the connection when a ping is not answered within this long (ms); default 60 s. */
  readonly timeoutMs?: number;
  /** The shortest ping interval a client may use without being told off (ms); default 10 s. */
  readonly minClientPingIntervalMs?: number;
}

/** Options of {@link XdsServer}. */
export interface XdsServerOptions {
  /** Where responses come from: a SnapshotCache, LinearCache, MuxCache or any ConfigWatcher. */
  readonly cache: ConfigWatcher;
  /**
   * The resource types served on ADS and by `addTypeService` (rule S15: others are served as types with no
   * resources); default the cache's `types` (a SnapshotCache or LinearCache made with registered types), else the
   * built-in ones.
   */
  readonly types?: ResourceTypes;
  /** A pino-compatible logger; default silent. */
  readonly logger?: Logger;
  /** Refuse a node's stream with PERMISSION_DENIED by returning false. */
  readonly authorize?: Authorize;
  /**
   * Hooks that see, and may refuse, a stream's opening, every request (SotW, delta, Fetch, REST) and every
   * response; async ones are bounded by `limits.hookTimeoutMs` (see {@link XdsServerHooks}).
   */
  readonly hooks?: XdsServerHooks;
  /**
   * Bind client certificates to nodes (rule L6): a node id is accepted only from a client whose verified
   * certificate (mutual TLS, see `listen(address, { tls })`) may claim it, by Istio's namespace rule or by grants.
   * Runs before `authorize`, on every discovery service (streams, Fetch, REST); a refusal is PERMISSION_DENIED
   * naming the certificate identity and the node. It does not open CSDS: with it set, CSDS is refused to every
   * caller unless {@link authorizeStatus} grants it, and a grant shows every matching node (an operator's view).
   */
  readonly nodeIdentity?: NodeIdentityOptions;
  /**
   * Who may read client status over CSDS: every matching node's config and resource contents (rule L6), an
   * operator's right rather than a proxy's. Return false to refuse with PERMISSION_DENIED. Default: when `authorize`
   * or `nodeIdentity` is set, CSDS is refused to everyone (set this option to grant it); when none is set, CSDS is
   * open, like every other service of a server without authorization.
   */
  readonly authorizeStatus?: AuthorizeStatus;
  readonly keepalive?: KeepaliveOptions;
  /**
   * The largest message sent, in bytes; default 64 MiB. It caps requests too, which `limits.maxRequestBytes`
   * (default 16 MiB) bounds: a larger request ends its stream with RESOURCE_EXHAUSTED.
   */
  readonly maxMessageBytes?: number;
  /** `control_plane.identifier` in every response; default empty (left out). */
  readonly controlPlaneId?: string;
  /**
   * Whether an empty `resource_names` on a stream's first requests means wildcard (rule S9). Default: yes, except
   * for gRPC clients (`user_agent_name` starting with `gRPC`), which never mean it.
   */
  readonly legacyWildcard?: boolean | ((node: Node, typeUrl: TypeUrl) => boolean);
  /** Aborting the signal closes the server, as {@link XdsServer.close} does. */
  readonly signal?: AbortSignal;
  /** How long close() waits for connections to finish before forcing them (ms); default 5 s. */
  readonly closeGraceMs?: number;
  /**
   * A server-wide bound on response bytes written but not yet flushed to the socket (default 64 MiB). When a push
   * to many streams exceeds it, streams take turns (round-robin) and each takes its response from the cache only
   * on its turn, so memory stays bounded whatever the number of clients. A write whose client does not read stops
   * counting (after a whole budget of later writes was flushed, or when nothing was flushed for `stallMs`, default
   * 100 ms, while streams wait), so such a client holds up no one; it still holds its one response until
   * `limits.drainTimeoutMs` ends its stream (rule S12).
   */
  readonly writeBudget?: WriteBudgetOptions;
  /** Bounds on what a client controls: names, globs, sizes kept, streams, first-request and drain times (rule L2). */
  readonly limits?: Limits;
  /** Extra grpc-js server options. */
  readonly grpcOptions?: ServerOptions;
}

/**
 * HTTP/2 streams a connection may open beyond `limits.maxStreamsPerConnection` xDS streams: room for CSDS, fetch and
 * health calls, and so that an xDS stream past the limit gets a clear RESOURCE_EXHAUSTED instead of waiting unseen
 * in the client's queue.
 */
export const extraStreamsPerConnection = 16;

/**
 * The grpc-js options that follow from ours. The HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS of the connection is
 * `limits.maxStreamsPerConnection` + {@link extraStreamsPerConnection}.
 */
export function grpcServerOptions(options: XdsServerOptions, limits: ResolvedLimits): ServerOptions {
  const keepalive = options.keepalive ?? {};
  const max = options.maxMessageBytes ?? 64 * 1024 * 1024;
  const maxRequest = Math.min(max, limits.maxRequestBytes);
  return {
    'grpc.keepalive_time_ms': keepalive.timeMs ?? 120_000,
    'grpc.keepalive_timeout_ms': keepalive.timeoutMs ?? 60_000,
    'grpc.http2.min_ping_interval_without_data_ms': keepalive.minClientPingIntervalMs ?? 10_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.max_receive_message_length': maxRequest,
    'grpc.max_send_message_length': max,
    'grpc.max_concurrent_streams': limits.maxStreamsPerConnection + extraStreamsPerConnection,
    ...options.grpcOptions,
  };
}

/** The default of `legacyWildcard`: every client but gRPC's. */
export function defaultLegacyWildcard(node: Node): boolean {
  return !/^grpc/i.test(node.userAgentName);
}
