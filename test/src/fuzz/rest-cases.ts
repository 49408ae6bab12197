// REST xDS cases: `POST /v3/discovery:<type>` with a proto3-JSON DiscoveryRequest, well-formed or mutated (wrong
// value types, unknown keys, deep nesting, long and odd strings, truncated or bit-flipped text), and odd methods,
// paths and content types. Every request must get an HTTP answer.
import type { RestCase } from './case.js';
import { fuzzTypeUrls } from './fuzz-config.js';
import { fuzzString, type Vocabulary } from './messages.js';
import { mutateBytes } from './mutate.js';
import type { Random } from './random.js';

const restNames: Readonly<Record<string, string>> = {
  clusters: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoints: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  listeners: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  routes: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  secrets: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
  runtime: 'type.googleapis.com/envoy.service.runtime.v3.Runtime',
  extension_configs: 'type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig',
};

/** A JSON value of a random shape, `depth` deep at most. */
function junkValue(r: Random, depth: number): unknown {
  const kind = r.weighted({
    string: 3,
    number: 2,
    bool: 1,
    null: 1,
    array: depth > 0 ? 1 : 0,
    object: depth > 0 ? 1 : 0,
  });
  if (kind === 'string') return fuzzString(r).toString('utf8');
  if (kind === 'number') return r.pick([0, -1, 1.5, 1e308, 2 ** 53 + 1, Number.NaN]);
  if (kind === 'bool') return r.chance(0.5);
  if (kind === 'null') return null;
  if (kind === 'array') return Array.from({ length: r.size(20) }, () => junkValue(r, depth - 1));
  const out: Record<string, unknown> = {};
  for (let i = r.size(10); i > 0; i--)
    out[fuzzString(r, ['id', 'node', 'x']).toString('utf8')] = junkValue(r, depth - 1);
  return out;
}

/** The JSON text of an object nested `depth` deep (cheap in bytes, deep for recursive parsers). */
function deepJson(depth: number, open: string, close: string): string {
  return open.repeat(depth) + close.repeat(depth);
}

/** A REST case. */
export function restCase(r: Random, v: Vocabulary): RestCase {
  const restName = r.pick(Object.keys(restNames));
  const typeUrl = restNames[restName]!;
  const request: Record<string, unknown> = {
    node: { id: r.chance(0.8) ? r.pick(['fuzz-envoy', 'fuzz-grpc']) : fuzzString(r).toString('utf8') },
    resourceNames: Array.from({ length: r.size(50) }, () =>
      fuzzString(r, v.names[typeUrl] ?? v.allNames).toString('utf8'),
    ),
  };
  if (r.chance(0.5)) request['typeUrl'] = r.chance(0.8) ? typeUrl : r.pick(fuzzTypeUrls);
  if (r.chance(0.3)) request['versionInfo'] = r.chance(0.5) ? 'p1.1' : fuzzString(r).toString('utf8');
  if (r.chance(0.2)) request['errorDetail'] = { code: 3, message: 'e'.repeat(r.size(100_000)) };
  // Structure-aware JSON mutations.
  for (let n = r.chance(0.6) ? r.range(1, 3) : 0; n > 0; n--) {
    const what = r.weighted({ retype: 3, unknown: 2, metadata: 2, drop: 1 });
    const keys = Object.keys(request);
    if (what === 'retype' && keys.length > 0) request[r.pick(keys)] = junkValue(r, 3);
    if (what === 'unknown') request[fuzzString(r).toString('utf8')] = junkValue(r, 2);
    if (what === 'metadata') request['node'] = { ...(request['node'] as object), metadata: junkValue(r, 4) };
    if (what === 'drop' && keys.length > 0) delete request[r.pick(keys)];
  }
  let text = JSON.stringify(request);
  const shape = r.weighted({ json: 12, deep: 1, empty: 1, literal: 1, bytes: 3 });
  if (shape === 'deep') {
    const depth = r.range(1000, 200_000);
    text = `{"node":{"id":"fuzz-envoy","metadata":{"a":${deepJson(depth, r.chance(0.5) ? '[' : '{"a":', r.chance(0.5) ? ']' : '}')}}}}`;
  }
  if (shape === 'empty') text = '';
  if (shape === 'literal') text = r.pick(['null', '[]', '1', '"x"', '{', '}', 'true']);
  let body: Buffer = Buffer.from(text, 'utf8');
  if (shape === 'bytes') body = mutateBytes(r, body);
  const path = r.chance(0.9)
    ? `/v3/discovery:${restName}${r.chance(0.1) ? '?x=1' : ''}`
    : r.pick([
        '/v3/discovery:',
        '/v3/discovery:nope',
        '/v3/discovery:clusters/x',
        '/%',
        '/?a',
        `/v3/discovery:${'x'.repeat(5000)}`,
      ]);
  const method = r.chance(0.92) ? 'POST' : r.pick(['GET', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']);
  const headers: Record<string, string> = {
    'content-type': r.chance(0.9) ? 'application/json' : r.pick(['text/plain', 'application/x-protobuf', '']),
  };
  return { kind: 'rest', transport: 'rest', method, path, headers, body };
}
