// REST xDS for types registered at run time, over a real HTTP client: a type with a schema is served as proto3 JSON
// like a built-in one; an opaque type (no schema) cannot be written as proto3 JSON, so its resources are refused with
// 501 naming the type, while answers without resources still go out; bytes that do not parse get a 500 naming
// the type, and the listener serves on (rule L4).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import { ClusterSchema, Code, ResourceTypes, RouteSchema, stringField, TypeUrl } from '@xds/api';
import { Snapshot, SnapshotCache } from '@xds/cache';
import { cluster } from './test-harness.js';
import { XdsServer } from './xds-server.js';

const quotaUrl = 'type.googleapis.com/acme.quota.v1.Quota';
const routeUrl = `type.googleapis.com/${RouteSchema.typeName}`;
/** An opaque type served on REST as `quotas`, and a type with a schema served as `acme-routes`. */
const types = ResourceTypes.builtIn.with(
  { typeUrl: quotaUrl, restName: 'quotas', nameOfBytes: stringField(1) },
  { typeUrl: routeUrl, schema: RouteSchema, restName: 'acme-routes' },
);
/** An encoded "Quota": field 1 is its name, field 2 its limit. */
const quota = (name: string, limit: number) =>
  new Uint8Array([0x0a, name.length, ...Buffer.from(name), 0x10, limit]);

/** A DiscoveryRequest as proto3 JSON (quotas and routes are not wildcard types: they are asked for by name). */
const body = (node: string, resourceNames: string[] = [], versionInfo = '') =>
  JSON.stringify({ node: { id: node }, resourceNames, versionInfo });

interface Answer {
  readonly status: number;
  readonly body: string;
}

/** POSTs `json` to the REST listener with Node's HTTP client (fetch). */
async function post(port: number, path: string, json: string): Promise<Answer> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: json,
  });
  return { status: response.status, body: await response.text() };
}

describe('REST for registered and opaque types', () => {
  const cache = new SnapshotCache({ types });
  let server: XdsServer;
  let port: number;

  before(async () => {
    cache.setSnapshot(
      'full',
      Snapshot.create(
        [
          { typeUrl: quotaUrl, bytes: quota('q1', 5) },
          create(RouteSchema, { name: 'r1', match: { pathSpecifier: { case: 'prefix', value: '/' } } }),
          // A Cluster given as bytes: opaque in the cache, decoded only to be written as JSON.
          { typeUrl: TypeUrl.Cluster, bytes: toBinary(ClusterSchema, cluster('c1')) },
        ],
        { types },
      ),
    );
    // A node without quotas, and one whose Cluster bytes do not parse (given with a name, never decoded).
    cache.setSnapshot('empty', Snapshot.create([cluster('c1')], { types }));
    cache.setSnapshot(
      'broken',
      Snapshot.create([{ typeUrl: TypeUrl.Cluster, bytes: new Uint8Array([0x0a, 0x05, 0x61]), name: 'c9' }], {
        types,
      }),
    );
    server = new XdsServer({ cache });
    port = await server.listenRest('127.0.0.1:0');
  });
  after(async () => {
    await server.close();
    cache.close();
  });

  it('S1: a registered type with a schema is served as proto3 JSON, its Any with "@type" and its fields', async () => {
    const answer = await post(port, '/v3/discovery:acme-routes', body('full', ['r1']));
    assert.equal(answer.status, 200, answer.body);
    const json = JSON.parse(answer.body) as { typeUrl: string; resources: Record<string, unknown>[] };
    assert.equal(json.typeUrl, routeUrl);
    assert.deepEqual(json.resources, [{ '@type': routeUrl, name: 'r1', match: { prefix: '/' } }]);
  });

  it('R3: a Cluster given as bytes is decoded to be written as JSON', async () => {
    const answer = await post(port, '/v3/discovery:clusters', body('full'));
    assert.equal(answer.status, 200, answer.body);
    const json = JSON.parse(answer.body) as { resources: { '@type': string; name: string }[] };
    assert.deepEqual(
      json.resources.map((r) => [r['@type'], r.name]),
      [[TypeUrl.Cluster, 'c1']],
    );
  });

  it('L4: resources of an opaque type get 501 (UNIMPLEMENTED) naming the type and what to do instead', async () => {
    const answer = await post(port, '/v3/discovery:quotas', body('full', ['q1']));
    assert.equal(answer.status, 501, answer.body);
    const error = JSON.parse(answer.body) as { code: number; message: string };
    assert.equal(error.code, Code.Unimplemented);
    assert.match(error.message, /acme\.quota\.v1\.Quota is an opaque type/);
    assert.match(error.message, /over gRPC/);
  });

  it('an opaque type with no resources for the node, or a current version, is answered', async () => {
    const empty = await post(port, '/v3/discovery:quotas', body('empty', ['q1']));
    assert.equal(empty.status, 200, empty.body);
    const json = JSON.parse(empty.body) as { typeUrl: string; versionInfo: string; resources?: unknown[] };
    assert.equal(json.typeUrl, quotaUrl);
    assert.equal(json.resources, undefined);
    const current = await post(
      port,
      '/v3/discovery:quotas',
      body('full', ['q1'], cache.getSnapshot('full')!.version(quotaUrl)),
    );
    assert.equal(current.status, 304);
  });

  it('L4: resource bytes that do not parse get a 500 naming the type, and the listener serves on', async () => {
    const answer = await post(port, '/v3/discovery:clusters', body('broken'));
    assert.equal(answer.status, 500, answer.body);
    const error = JSON.parse(answer.body) as { code: number; message: string };
    assert.equal(error.code, Code.Internal);
    assert.match(error.message, /the Cluster resources cannot be written as JSON: /);
    const ok = await post(port, '/v3/discovery:clusters', body('empty'));
    assert.equal(ok.status, 200);
  });
});
