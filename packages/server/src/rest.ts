import type { IncomingMessage, ServerResponse } from 'node:http';
import { create, fromJson, toJson } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import {
  Code,
  DiscoveryRequestSchema,
  DiscoveryResponseSchema,
  type ResourceType,
  type TypeUrl,
  XdsError,
} from '@xds/api';
import { fetchFor } from './fetch.js';
import type { StreamContext } from './stream-context.js';

const httpStatus: Partial<Record<number, number>> = {
  [Code.InvalidArgument]: 400,
  [Code.PermissionDenied]: 403,
  [Code.NotFound]: 404,
  [Code.Unimplemented]: 404,
  [Code.ResourceExhausted]: 413,
  [Code.Unavailable]: 503,
};

/** The REST paths of the served types that have one (and a schema: REST answers proto3 JSON). */
function restPaths(types: Iterable<ResourceType>): Map<string, TypeUrl> {
  const paths = new Map<string, TypeUrl>();
  for (const type of types)
    if (type.restName !== undefined && type.schema !== undefined)
      paths.set(`/v3/discovery:${type.restName}`, type.typeUrl);
  return paths;
}

/**
 * Reads a request body of at most `limit` bytes. A longer body is read on and dropped, up to `limit` more bytes, and
 * then refused with RESOURCE_EXHAUSTED (413): an answer sent while the client is still sending would be lost to the
 * reset that closing the socket under it causes. Past twice the limit the connection is closed (`closed` is set).
 */
async function readBody(request: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
    else if (size > 2 * limit) {
      request.socket.destroy();
      break;
    }
  }
  if (size > limit) {
    throw new XdsError(
      Code.ResourceExhausted,
      `request body is larger than ${limit} bytes (the REST body limit is XdsServerOptions.maxMessageBytes)`,
    );
  }
  return Buffer.concat(chunks).toString('utf8');
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

function send(response: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
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
  return (request: IncomingMessage, response: ServerResponse): boolean => {
    const path = (request.url ?? '').split('?')[0] ?? '';
    const typeUrl = byPath.get(path);
    if (typeUrl === undefined) return false;
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
    void (async () => {
      try {
        const text = await readBody(request, maxBodyBytes);
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch (error) {
          throw new XdsError(Code.InvalidArgument, `body is not JSON: ${(error as Error).message}`);
        }
        let discovery: ReturnType<typeof fromJson<typeof DiscoveryRequestSchema>>;
        try {
          discovery = fromJson(DiscoveryRequestSchema, json as never, { registry });
        } catch (error) {
          throw new XdsError(
            Code.InvalidArgument,
            `body is not a DiscoveryRequest: ${(error as Error).message}`,
          );
        }
        const origin = {
          kind: 'rest',
          where: `POST ${path}`,
          peer: request.socket.remoteAddress ?? '',
        } as const;
        const answer = await fetchFor(ctx, discovery, typeUrl, origin, (outcome) => {
          if ('current' in outcome) return { body: undefined, bytes: 0 };
          const message = create(DiscoveryResponseSchema, {
            versionInfo: outcome.response.version,
            typeUrl,
            resources: outcome.response.resources.map((e) =>
              create(AnySchema, { typeUrl: e.typeUrl, value: e.bytes }),
            ),
          });
          const text = JSON.stringify(toJson(DiscoveryResponseSchema, message, { registry }));
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
        const xds = XdsError.from(error);
        if (xds.code === Code.Internal) ctx.logger.error({ err: error, path }, 'REST xDS request failed');
        if (!response.headersSent && response.socket?.destroyed !== true)
          send(response, httpStatus[xds.code] ?? 500, { code: xds.code, message: xds.message });
      }
    })();
    return true;
  };
}
