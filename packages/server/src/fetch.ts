// Unary discovery (gRPC Fetch* and REST): one request, one answer from the cache, under the same rules as a stream's
// first request (node S2, type S1, authorization L6, request limits L2, L5), the same hooks (onRequest,
// onResponse) and the same 'request' and 'response' events, so that an application watching its server sees every
// kind of client.
import { create } from '@bufbuild/protobuf';
import { Code, type DiscoveryRequest, DiscoveryResponseSchema, type TypeUrl, XdsError } from '@xds/api';
import { fetchResources, type SotwResponse } from '@xds/cache';
import { authorizationFailure } from './authorization.js';
import { callHook, type HookContext, hookFailure } from './hooks.js';
import { checkSotwRequest } from './request-limits.js';
import type { ServerCall, StreamContext } from './stream-context.js';

/** The outcome of a unary fetch: a response, or `current` when the client's version is the latest (HTTP 304). */
export type FetchOutcome = { readonly response: SotwResponse } | { readonly current: true };

/** Where a unary request came from. */
export interface FetchOrigin {
  readonly kind: 'fetch' | 'rest';
  /** The gRPC method path, or `POST /v3/discovery:…`. */
  readonly where: string;
  readonly peer: string;
  /** The gRPC call; undefined for REST. */
  readonly call?: ServerCall | undefined;
}

/** An encoded answer, and its size for the 'response' event. */
export interface Encoded<T> {
  readonly body: T;
  readonly bytes: number;
}

/**
 * Answers a unary request (gRPC Fetch* or REST) from the cache and encodes the answer with `encode`. Throws an
 * XdsError for a request without node, a type the endpoint does not serve, a refused node, names past the request
 * limits (rules L2, L5), a node the cache has nothing for, or a hook that refused.
 */
export async function fetchFor<T>(
  ctx: StreamContext,
  request: DiscoveryRequest,
  typeUrl: TypeUrl,
  origin: FetchOrigin,
  encode: (outcome: FetchOutcome) => Encoded<T>,
): Promise<T> {
  const { where, call } = origin;
  const node = request.node;
  if (node === undefined || node.id === '')
    throw new XdsError(Code.InvalidArgument, 'the request must carry node.id');
  // The stream's rule (stream-registry.ts claimNode), for unary requests too (rule L2).
  const idBytes = Buffer.byteLength(node.id, 'utf8');
  if (idBytes > ctx.limits.maxNodeIdBytes) {
    ctx.limitReached('maxNodeIdBytes');
    throw new XdsError(
      Code.InvalidArgument,
      `node.id is ${idBytes} bytes, over limits.maxNodeIdBytes (${ctx.limits.maxNodeIdBytes})`,
    );
  }
  if (request.typeUrl !== '' && request.typeUrl !== typeUrl) {
    throw new XdsError(Code.InvalidArgument, `type_url ${request.typeUrl} cannot be requested on ${where}`);
  }
  if (ctx.authorize !== undefined) {
    const refused = `node "${node.id}" may not call ${where}`;
    let granted: boolean;
    try {
      granted = await ctx.authorize(node, call);
    } catch (error) {
      // Rule L6: the hook's XdsError keeps its code; any other error refuses (PERMISSION_DENIED).
      throw authorizationFailure(ctx.logger, error, 'authorize', refused, { nodeId: node.id, where });
    }
    if (granted !== true) throw new XdsError(Code.PermissionDenied, refused);
  }
  checkSotwRequest(ctx.limits, request);
  const streamId = ctx.nextStreamId();
  const ids = { streamId, nodeId: node.id };
  const events = ctx.events;
  if (events.listenerCount('request') > 0)
    events.emit('request', {
      ...ids,
      typeUrl,
      versionInfo: request.versionInfo,
      responseNonce: request.responseNonce,
      names: request.resourceNames,
      unsubscribe: [],
      stale: false,
      initial: true,
    });
  const hooks = ctx.hooks;
  const abort = new AbortController();
  const context: HookContext = {
    streamId,
    kind: origin.kind,
    ads: false,
    method: where,
    peer: origin.peer,
    node,
    nodeId: node.id,
    call,
    signal: abort.signal,
  };
  try {
    if (hooks.onRequest !== undefined) {
      const onRequest = hooks.onRequest;
      await runHook(ctx, 'onRequest', () => onRequest(request, context), ids);
    }
    const outcome = outcomeOf(ctx, request, typeUrl);
    const encoded = encode(outcome);
    const response = {
      ...ids,
      typeUrl,
      version: 'current' in outcome ? request.versionInfo : outcome.response.version,
      nonce: '',
      resources: 'current' in outcome ? [] : outcome.response.resources.map((e) => e.name),
      removed: [],
      bytes: encoded.bytes,
    };
    if (hooks.onResponse !== undefined) {
      const onResponse = hooks.onResponse;
      await runHook(ctx, 'onResponse', () => onResponse(response, context), ids);
    }
    events.emit('response', response);
    return encoded.body;
  } finally {
    abort.abort();
  }
}

/** Runs a hook; a failure (or timeout) is the call's error: its XdsError, or INTERNAL (logged). */
async function runHook(
  ctx: StreamContext,
  name: 'onRequest' | 'onResponse',
  invoke: () => void | Promise<void>,
  context: Record<string, unknown>,
): Promise<void> {
  try {
    await callHook(ctx, name, invoke);
  } catch (error) {
    throw hookFailure(ctx, name, error, context);
  }
}

function outcomeOf(ctx: StreamContext, request: DiscoveryRequest, typeUrl: TypeUrl): FetchOutcome {
  const node = request.node!;
  const response = fetchResources(ctx.cache, {
    node,
    typeUrl,
    names: request.resourceNames,
    versionInfo: request.versionInfo,
  });
  if (response !== undefined) return { response };
  if (request.versionInfo !== '') return { current: true };
  throw new XdsError(Code.Unavailable, `no ${typeUrl} resources for node "${node.id}" yet`);
}

/** An empty response that repeats the client's version, for a gRPC Fetch whose version is current. */
export function currentResponse(request: DiscoveryRequest, typeUrl: TypeUrl) {
  return create(DiscoveryResponseSchema, { versionInfo: request.versionInfo, typeUrl });
}
