/**
 * The context every stream, fetch and CSDS call of one `XdsServer` shares (stream-context.ts): the cache, the
 * hooks and their bounded authorization (rule L6), the limits (rule L2), the server-wide budgets and the stream
 * registry. Built once per server from its options; split from xds-server.ts so that the class keeps to its API.
 */
import type { Node, TypeUrl } from '@xds/api';
import { ResourceTypes } from '@xds/api';
import type { EventEmitter } from 'eventemitter3';
import { boundedAuthorization } from './authorization.js';
import type { XdsServerEvents } from './events.js';
import { composeAuthorize, nodeIdentityCheck } from './identity.js';
import { type ResolvedLimits, resolveLimits } from './limits.js';
import { silentLogger } from './logger.js';
import { defaultLegacyWildcard, type XdsServerOptions } from './options.js';
import type { PartialRequestBudget } from './partial-request-budget.js';
import type { StreamContext } from './stream-context.js';
import type { StreamRegistry } from './stream-registry.js';
import type { WriteBudget } from './write-budget.js';

/** The types a cache serves, when it says (SnapshotCache, LinearCache), else the built-in ones. */
function typesOf(cache: XdsServerOptions['cache']): ResourceTypes {
  const types = (cache as { readonly types?: unknown }).types;
  return types instanceof ResourceTypes ? types : ResourceTypes.builtIn;
}

/**
 * The server's limits: `options.limits` with the defaults filled in, `maxStatusBytes` no more than
 * `options.maxMessageBytes` (a CSDS answer is one message).
 */
export function serverLimits(options: XdsServerOptions): ResolvedLimits {
  const limits = resolveLimits(options.limits);
  const maxMessage = options.maxMessageBytes ?? 64 * 1024 * 1024;
  if (limits.maxStatusBytes <= maxMessage) return limits;
  return Object.freeze({ ...limits, maxStatusBytes: maxMessage });
}

/** What the server owns and hands to {@link serverContext}. */
export interface ServerParts {
  readonly events: EventEmitter<XdsServerEvents>;
  readonly limits: ResolvedLimits;
  readonly budget: WriteBudget;
  readonly partialRequests: PartialRequestBudget;
  readonly registry: StreamRegistry;
  /** The next stream id. */
  readonly nextStreamId: () => number;
  /** True once the server is closing. */
  readonly closing: () => boolean;
}

/** The shared context of a server made with `options`. */
export function serverContext(options: XdsServerOptions, parts: ServerParts): StreamContext {
  const { limits, registry } = parts;
  const legacy = options.legacyWildcard ?? defaultLegacyWildcard;
  // The types served on ADS and by addTypeService: the cache's (with the types registered there), rule S15.
  const types = options.types ?? typesOf(options.cache);
  return {
    cache: options.cache,
    events: parts.events,
    logger: options.logger ?? silentLogger,
    controlPlane: options.controlPlaneId ?? '',
    authorize: boundedAuthorization(
      composeAuthorize(
        options.nodeIdentity === undefined ? undefined : nodeIdentityCheck(options.nodeIdentity),
        options.authorize,
      ),
      'authorize',
      limits.hookTimeoutMs,
      () => registry.limitReached('hookTimeoutMs'),
    ),
    authorizeStatus: boundedAuthorization(
      options.authorizeStatus,
      'authorizeStatus',
      limits.hookTimeoutMs,
      () => registry.limitReached('hookTimeoutMs'),
    ),
    hooks: options.hooks ?? {},
    limits,
    budget: parts.budget,
    partialRequests: parts.partialRequests,
    types,
    servesType: (typeUrl: string) => types.has(typeUrl),
    legacyWildcard: (node: Node, typeUrl: TypeUrl) =>
      typeof legacy === 'function' ? legacy(node, typeUrl) : legacy,
    nextStreamId: parts.nextStreamId,
    get closing() {
      return parts.closing();
    },
    registry,
    limitReached: (limit) => registry.limitReached(limit),
  };
}
