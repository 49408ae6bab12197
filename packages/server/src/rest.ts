// REST xDS (`POST /v3/discovery:{type}`, proto3 JSON in and out) on the rules of unary discovery (fetch.ts: node
// S2, authorization L6, limits L2): bodies are bounded, every failure is an answer with a status (rule L4), and a
// type whose resources proto3 JSON cannot carry (opaque, no schema) is refused by name rather than misrepresented.
// The bodies held at once are bounded too (`limits.maxRestBytesInFlight`, counted as rest-bodies.ts's
// `restMemoryFactor` times their bytes), and so are one peer address's (`limits.maxRestBytesInFlightPerPeer`):
// past either, 503 with Retry-After naming it; a body that could never fit, 413.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { create, fromJson, type Registry, toJson } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import {
  Code,
  type DiscoveryRequest,
  DiscoveryRequestSchema,
  DiscoveryResponseSchema,
  type ResourceType,
  XdsError,
} from '@xds/api';
import type { EncodedResource } from '@xds/cache';
import { peerKey } from './connection-gate.js';
import { fetchFor } from './fetch.js';
import type { ResolvedLimits } from './limits.js';
import { type RestBodies, type RestBodiesLimit, restBodiesOf, restMemoryFactor } from './rest-bodies.js';
import {
  checkJsonDepth,
  checkJsonNode,
  checkNodeBytes,
  maxRestJsonDepth,
  RestLimitError,
} from './rest-json.js';
import type { StreamContext } from './stream-context.js';

const httpStatus: Partial<Record<number, number>> = {
  [Code.InvalidArgument]: 400,
  [Code.PermissionDenied]: 403,
  [Code.NotFound]: 404,
  [Code.Unimplemented]: 501,
  [Code.ResourceExhausted]: 413,
  [Code.Unavailable]: 503,
};

/** The REST paths of the served types that have one, opaque types (no schema) included: see {@link jsonOf}. */
function restPaths(types: Iterable<ResourceType>): Map<string, ResourceType> {
  const paths = new Map<string, ResourceType>();
  for (const type of types)
    if (type.restName !== undefined) paths.set(`/v3/discovery:${type.restName}`, type);
  return paths;
}

/**
 * The proto3 JSON of a DiscoveryResponse. In proto3 JSON an `Any` is its message's own JSON plus `"@type"`: there
 * is no form for bytes whose message type the writer does not know (protobuf-es, Go's protojson and Java's
 * JsonFormat all refuse, go-control-plane's REST gateway answers 500, Envoy's REST client cannot read one). A
 * `{"@type", "value": base64}` would be read by a client that knows the type as a message whose field `value`
 * holds that text: a wrong answer, not an error. So resources of an opaque type are refused with UNIMPLEMENTED
 * (HTTP 501) naming the type; an answer without resources (none for the node, or 304) still goes out.
 */
function jsonOf(
  type: ResourceType,
  registry: Registry,
  versionInfo: string,
  resources: readonly EncodedResource[],
): string {
  if (type.schema === undefined && resources.length > 0)
    throw new XdsError(
      Code.Unimplemented,
      `${type.typeUrl} is an opaque type (registered without a schema): proto3 JSON cannot carry its resources ` +
        "(a JSON Any is its message's fields); fetch them over gRPC, or register the type with its schema",
    );
  const message = create(DiscoveryResponseSchema, {
    versionInfo,
    typeUrl: type.typeUrl,
    resources: resources.map((e) => create(AnySchema, { typeUrl: e.typeUrl, value: e.bytes })),
  });
  try {
    return JSON.stringify(toJson(DiscoveryResponseSchema, message, { registry }));
  } catch (error) {
    // Bytes given as an opaque resource of a type with a schema are decoded only here: they may not parse.
    throw new XdsError(
      Code.Internal,
      `the ${type.shortName} resources cannot be written as JSON: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/**
 * A body that does not fit now in `limits.maxRestBytesInFlight`, or in its peer's share
 * (`limits.maxRestBytesInFlightPerPeer`): answered 503 with Retry-After.
 */
class BodiesInFlight extends XdsError {
  constructor(passed: RestBodiesLimit, bodies: RestBodies, peer: string | undefined) {
    const holder = passed === 'maxRestBytesInFlight' ? 'the server holds' : `peer ${peer} holds`;
    const limit = passed === 'maxRestBytesInFlight' ? bodies.limit : bodies.perPeer;
    super(
      Code.Unavailable,
      `the REST request bodies ${holder} passed limits.${passed} (${limit} bytes, counting ` +
        `${restMemoryFactor} times a body's size: its memory while decoded); retry later`,
    );
  }
}

/** The most memory one body may hold, and the limit that sets it: the smaller of the total and a peer's share. */
function bodyCap(bodies: RestBodies, peer: string | undefined): [RestBodiesLimit, number] {
  return peer !== undefined && bodies.perPeer < bodies.limit
    ? ['maxRestBytesInFlightPerPeer', bodies.perPeer]
    : ['maxRestBytesInFlight', bodies.limit];
}

/** A body whose memory alone passes the limit {@link bodyCap} names: it can never fit, so 413, not a retry. */
function neverFits(size: number, bodies: RestBodies, peer: string | undefined): XdsError {
  const [name, cap] = bodyCap(bodies, peer);
  return new XdsError(
    Code.ResourceExhausted,
    `request body of ${size} bytes holds about ${restMemoryFactor} times its size while decoded, more than ` +
      `limits.${name} (${cap} bytes) allows; bodies of up to ${Math.floor(cap / restMemoryFactor)} bytes fit`,
  );
}

/**
 * Reads a request body of at most `limit` bytes, counting the memory it holds ({@link restMemoryFactor} per byte)
 * in `bodies` for `peer` (`held.bytes`, given back by the caller once answered). A longer body is read on and dropped, up to
 * `limit` more bytes, and then refused with RESOURCE_EXHAUSTED (413): an answer sent while the client is still
 * sending would be lost to the reset that closing the socket under it causes. Past twice the limit the connection
 * is closed. A body that does not fit in the server's `limits.maxRestBytesInFlight` now is dropped the same way and
 * refused with {@link BodiesInFlight}; one that could not fit even alone (in the total or the peer's share),
 * with RESOURCE_EXHAUSTED (413).
 */
async function readBody(
  request: IncomingMessage,
  limit: number,
  bodies: RestBodies,
  peer: string | undefined,
  held: { bytes: number },
  maxDepth: number,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  let refused: RestBodiesLimit | undefined;
  const cap = bodyCap(bodies, peer)[1];
  // a declared length that alone cannot fit is refused as soon as the body is read, before it competes for room
  const declared = Number(request.headers['content-length'] ?? Number.NaN);
  let never = Number.isFinite(declared) && declared <= limit && declared * restMemoryFactor > cap;
  const drop = (): void => {
    chunks.length = 0;
    bodies.give(held.bytes, peer);
    held.bytes = 0;
  };
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 2 * limit) {
      request.socket.destroy();
      break;
    }
    if (size > limit || refused !== undefined || never) continue;
    if (size * restMemoryFactor > cap) {
      never = true;
      drop();
      continue;
    }
    const cost = chunk.length * restMemoryFactor;
    refused = bodies.take(cost, peer);
    if (refused === undefined) {
      held.bytes += cost;
      chunks.push(chunk);
    } else drop();
  }
  if (size > limit) {
    throw new XdsError(
      Code.ResourceExhausted,
      `request body is larger than ${limit} bytes (limits.maxRequestBytes, at most XdsServerOptions.maxMessageBytes)`,
    );
  }
  if (never) throw neverFits(size, bodies, peer);
  if (refused !== undefined) throw new BodiesInFlight(refused, bodies, peer);
  const joined = Buffer.concat(chunks, size);
  // the chunks are garbage once joined: nothing refers to them while the string and the JSON are made
  chunks.length = 0;
  // Rule L2: JSON.parse is slow on deep nesting; its depth is bounded before it runs (rest-json.ts).
  checkJsonDepth(joined, maxDepth);
  return joined.toString('utf8');
}

/**
 * The DiscoveryRequest of a body's text, its node held to the node limits (rule L2, rest-json.ts) before
 * protobuf-es reads it. The text and its JSON live only in this call: the request (which shares the JSON's strings)
 * is what stays while the answer is made.
 */
function decodeRequest(text: string, registry: Registry, limits: ResolvedLimits): DiscoveryRequest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new XdsError(Code.InvalidArgument, `body is not JSON: ${(error as Error).message}`);
  }
  if (typeof json === 'object' && json !== null) checkJsonNode((json as { node?: unknown }).node, limits);
  let request: DiscoveryRequest;
  try {
    request = fromJson(DiscoveryRequestSchema, json as never, { registry });
  } catch (error) {
    throw new XdsError(Code.InvalidArgument, `body is not a DiscoveryRequest: ${(error as Error).message}`);
  }
  checkNodeBytes(request.node, limits);
  return request;
}

/**
 * Reads and drops a body the server will not use (up to `limit` bytes) so that the client, still sending, reads the
 * answer instead of a connection reset; resolves false when the body was longer (the connection is then closed).
 */
export async function discardBody(request: IncomingMessage, limit: number): Promise<boolean> {
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      request.socket.destroy();
      return false;
    }
  }
  return true;
}

function send(
  response: ServerResponse,
  code: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(code, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

/**
 * The REST xDS endpoints: `POST /v3/discovery:{clusters,endpoints,listeners,routes,secrets,runtime,extension_configs}`
 * with a proto3-JSON DiscoveryRequest; answers a proto3-JSON DiscoveryResponse, or 304 when the version is
 * current. Returns false for any other path, so it can share an HTTP server.
 */
export function createRestHandler(ctx: StreamContext, maxBodyBytes: number) {
  const byPath = restPaths(ctx.types);
  // Proto3 JSON of every served type, registered ones included.
  const registry = ctx.types.registry;
  // Rule L2: one tally per server, whichever of its handlers a body arrives on, with a share per peer address.
  const bodies = restBodiesOf(ctx, ctx.limits.maxRestBytesInFlight, ctx.limits.maxRestBytesInFlightPerPeer);
  const maxDepth = maxRestJsonDepth(ctx.limits);
  return (request: IncomingMessage, response: ServerResponse): boolean => {
    const path = (request.url ?? '').split('?')[0] ?? '';
    const type = byPath.get(path);
    if (type === undefined) return false;
    const typeUrl = type.typeUrl;
    if (request.method !== 'POST') {
      response.setHeader('allow', 'POST');
      discardBody(request, maxBodyBytes).then(
        (whole) => {
          if (whole) send(response, 405, { code: Code.InvalidArgument, message: `${path} takes POST` });
        },
        () => response.destroy(),
      );
      return true;
    }
    // The body's memory stays counted until the answer is written (its request lives that long).
    const held = { bytes: 0 };
    const peer = peerKey(request.socket.remoteAddress);
    void (async () => {
      try {
        const text = await readBody(request, maxBodyBytes, bodies, peer, held, maxDepth);
        const discovery = decodeRequest(text, registry, ctx.limits);
        const origin = {
          kind: 'rest',
          where: `POST ${path}`,
          peer: request.socket.remoteAddress ?? '',
        } as const;
        const answer = await fetchFor(ctx, discovery, typeUrl, origin, (outcome) => {
          if ('current' in outcome) return { body: undefined, bytes: 0 };
          const text = jsonOf(type, registry, outcome.response.version, outcome.response.resources);
          return { body: text, bytes: Buffer.byteLength(text) };
        });
        if (answer === undefined) {
          response.writeHead(304).end();
          return;
        }
        response.writeHead(200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(answer),
        });
        response.end(answer);
      } catch (error) {
        if (error instanceof RestLimitError) ctx.limitReached(error.limit);
        const xds = XdsError.from(error);
        if (xds.code === Code.Internal) ctx.logger.error({ err: error, path }, 'REST xDS request failed');
        if (!response.headersSent && response.socket?.destroyed !== true)
          send(
            response,
            httpStatus[xds.code] ?? 500,
            { code: xds.code, message: xds.message },
            error instanceof BodiesInFlight ? { 'retry-after': '1' } : {},
          );
      } finally {
        bodies.give(held.bytes, peer);
        held.bytes = 0;
      }
    })();
    return true;
  };
}
