import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import {
  ClusterSchema,
  DeltaDiscoveryResponseSchema,
  DiscoveryResponseSchema,
  LbEndpointSchema,
  ResourceSchema,
  TypeUrl,
} from '@xds/api';
import { decodeDeltaResponse, decodeSotwResponse } from './received.js';
import { packOne } from './test-support/scripted-server.js';

describe('decoding responses', () => {
  it('R4: unwraps SotW resources wrapped in envoy.service.discovery.v3.Resource; skips heartbeats', () => {
    const wrapped = anyPack(
      ResourceSchema,
      create(ResourceSchema, { name: 'a', version: '1', resource: packOne(ClusterSchema, { name: 'a' }) }),
    );
    const heartbeat = anyPack(ResourceSchema, create(ResourceSchema, { name: 'b', version: '1' }));
    const raw = create(DiscoveryResponseSchema, {
      typeUrl: TypeUrl.Cluster,
      versionInfo: 'v',
      nonce: 'n',
      resources: [wrapped, heartbeat, packOne(ClusterSchema, { name: 'c' })],
    });
    const r = decodeSotwResponse(raw, TypeUrl.Cluster);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.names, ['a', 'c']);
    assert.equal(r.resources[0]?.$typeName, 'envoy.config.cluster.v3.Cluster');
    assert.equal(r.acked, undefined);
    assert.equal(r.raw, raw);
  });

  it('R1: a SotW LbEndpoint is named by its Resource wrapper (name or xdstp resource_name); unnamed, it is an error', () => {
    const endpoint = (port: number) =>
      packOne(LbEndpointSchema, {
        hostIdentifier: {
          case: 'endpoint',
          value: {
            address: {
              address: {
                case: 'socketAddress',
                value: { address: '127.0.0.1', portSpecifier: { case: 'portValue', value: port } },
              },
            },
          },
        },
      });
    const wrap = (init: { name?: string; resourceName?: { name: string } }, port: number) =>
      anyPack(ResourceSchema, create(ResourceSchema, { ...init, version: '1', resource: endpoint(port) }));
    const raw = create(DiscoveryResponseSchema, {
      typeUrl: TypeUrl.LbEndpoint,
      resources: [
        wrap({ name: 'xdstp://a/envoy.config.endpoint.v3.LbEndpoint/p/e0' }, 1),
        wrap({ resourceName: { name: 'xdstp://a/envoy.config.endpoint.v3.LbEndpoint/p/e1' } }, 2),
        endpoint(3),
      ],
    });
    const r = decodeSotwResponse(raw, TypeUrl.LbEndpoint);
    assert.deepEqual(r.names, [
      'xdstp://a/envoy.config.endpoint.v3.LbEndpoint/p/e0',
      'xdstp://a/envoy.config.endpoint.v3.LbEndpoint/p/e1',
    ]);
    assert.equal(r.resources.length, 2);
    assert.deepEqual(r.errors, ['a LbEndpoint resource without a name (no Resource wrapper names it)']);
  });

  it('collects every problem instead of stopping at the first', () => {
    const raw = create(DiscoveryResponseSchema, {
      typeUrl: TypeUrl.Cluster,
      resources: [
        { typeUrl: 'type.googleapis.com/no.such.Type', value: new Uint8Array() },
        { typeUrl: TypeUrl.Cluster, value: new Uint8Array([0xff, 0xff]) },
        packOne(ClusterSchema, { name: 'x' }),
        packOne(ClusterSchema, { name: 'x' }),
      ],
    });
    const r = decodeSotwResponse(raw, TypeUrl.Cluster);
    assert.equal(r.errors.length, 3, r.errors.join('\n'));
    assert.match(r.errors[0] ?? '', /no\.such\.Type in a response of type/);
    assert.match(r.errors[1] ?? '', /cannot decode a Cluster resource/);
    assert.match(r.errors[2] ?? '', /"x" appears twice/);
  });

  it('delta: names, versions, messages and removals (plain and xdstp)', () => {
    const raw = create(DeltaDiscoveryResponseSchema, {
      typeUrl: TypeUrl.Cluster,
      systemVersionInfo: 's1',
      nonce: 'n',
      resources: [
        { name: 'a', version: '7', resource: packOne(ClusterSchema, { name: 'a' }) },
        { resourceName: { name: 'xdstp://b' }, version: '8' },
      ],
      removedResources: ['c'],
      removedResourceNames: [{ name: 'xdstp://d' }],
    });
    const r = decodeDeltaResponse(raw, TypeUrl.Cluster);
    assert.deepEqual(r.errors, []);
    assert.equal(r.versionInfo, 's1');
    assert.deepEqual(r.names, ['a', 'xdstp://b']);
    assert.deepEqual(
      r.resources.map((x) => [x.name, x.version, x.message?.$typeName]),
      [
        ['a', '7', 'envoy.config.cluster.v3.Cluster'],
        ['xdstp://b', '8', undefined],
      ],
    );
    assert.deepEqual(r.removed, ['c', 'xdstp://d']);
  });
});
