import { create } from '@bufbuild/protobuf';
import { Code, type DiscoveryRequest, DiscoveryResponseSchema, type TypeUrl, XdsError } from '@xds/api';
import { fetchResources, type SotwResponse } from '@xds/cache';
import { authorizationFailure } from './authorization.js';
import { checkSotwRequest } from './request-limits.js';
import type { ServerCall, StreamContext } from './stream-context.js';

/** The outcome of a unary fetch: a response, or `current` when the client's version is the latest (HTTP 304). */
export type FetchOutcome = { readonly response: SotwResponse } | { readonly current: true };

/**
 * Answers a unary request (gRPC Fetch* or REST) from the cache. Throws an XdsError for a request without node,
 * a type the endpoint does not serve, a refused node, names past the request limits (rules L2, L5), or a node the
 * cache has nothing for.
 */
export async function fetchFor(
  ctx: StreamContext,
  request: DiscoveryRequest,
  typeUrl: TypeUrl,
  where: string,
  call?: ServerCall,
): Promise<FetchOutcome> {
  const node = request.node;
  if (node === undefined || node.id === '')
    throw new XdsError(Code.InvalidArgument, 'the request must carry node.id');
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
