import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, equals, fromBinary, type Message, toBinary } from '@bufbuild/protobuf';
import { ClusterSchema } from './gen/envoy/config/cluster/v3/cluster_pb.js';
import { DiscoveryRequestSchema } from './gen/envoy/service/discovery/v3/discovery_pb.js';
import { isTypeUrl, resourceName, resourceType, resourceTypes, typeUrlOf } from './resource-type.js';
import { TypeUrl, typeNameOf, typeUrlFor } from './type-url.js';

/** A message of each resource type with its name set, by the field rule R1 names. */
function sample(typeUrl: TypeUrl, name: string): Message {
  const type = resourceType(typeUrl);
  assert.ok(type, typeUrl);
  const init = typeUrl === TypeUrl.Endpoint ? { clusterName: name } : { name };
  return create(type.schema, init as never);
}

describe('resource types', () => {
  it('has one entry per TypeUrl, in ADS push order (S11)', () => {
    assert.deepEqual(
      resourceTypes.map((t) => t.typeUrl),
      Object.values(TypeUrl),
    );
    assert.deepEqual(
      resourceTypes.map((t) => t.pushOrder),
      resourceTypes.map((_, i) => i),
    );
  });

  it('TypeUrl values are full type URLs of their schemas', () => {
    for (const type of resourceTypes) {
      assert.equal(type.typeUrl, typeUrlFor(type.schema.typeName));
      assert.equal(typeNameOf(type.typeUrl), type.schema.typeName);
      assert.ok(type.typeUrl.startsWith('type.googleapis.com/envoy.'));
    }
  });

  it('only Listener and Cluster need the whole set in SotW and allow wildcard (S8, S9)', () => {
    const full = resourceTypes.filter((t) => t.allRequiredInSotW).map((t) => t.typeUrl);
    assert.deepEqual(full.sort(), [TypeUrl.Cluster, TypeUrl.Listener].sort());
    assert.deepEqual(
      resourceTypes
        .filter((t) => t.wildcard)
        .map((t) => t.typeUrl)
        .sort(),
      full.sort(),
    );
  });

  for (const typeUrl of Object.values(TypeUrl).filter((t) => t !== TypeUrl.LbEndpoint)) {
    it(`R1: resourceName and typeUrlOf for ${typeNameOf(typeUrl)}`, () => {
      const message = sample(typeUrl, `name-of-${typeNameOf(typeUrl)}`);
      assert.equal(resourceName(message), `name-of-${typeNameOf(typeUrl)}`);
      assert.equal(typeUrlOf(message), typeUrl);
      assert.ok(isTypeUrl(typeUrl));
    });

    it(`binary round trip of ${typeNameOf(typeUrl)}`, () => {
      const type = resourceType(typeUrl)!;
      const message = sample(typeUrl, 'round-trip');
      const bytes = toBinary(type.schema, message);
      assert.ok(bytes.length > 0);
      const back = fromBinary(type.schema, bytes);
      assert.ok(equals(type.schema, message, back));
      assert.equal(resourceName(back), 'round-trip');
    });
  }

  it('R1: an LbEndpoint (LEDS) carries no name: it is named beside it, by its xdstp URL', () => {
    const type = resourceType(TypeUrl.LbEndpoint)!;
    const lb = create(type.schema, {});
    assert.equal(typeUrlOf(lb), TypeUrl.LbEndpoint);
    assert.equal(resourceName(lb), '');
    assert.equal(type.nameOfBytes, undefined);
    assert.equal(type.wildcard, false);
  });

  it('R1: ClusterLoadAssignment is named by cluster_name, not name', () => {
    const cla = sample(TypeUrl.Endpoint, 'outbound|80||a.default');
    assert.equal(resourceName(cla), 'outbound|80||a.default');
  });

  it('refuses a message that is not a resource', () => {
    const request = create(DiscoveryRequestSchema, {});
    assert.equal(typeUrlOf(request), undefined);
    assert.throws(
      () => resourceName(request),
      /envoy\.service\.discovery\.v3\.DiscoveryRequest is not an xDS resource/,
    );
    assert.equal(resourceType('type.googleapis.com/nope.Nope'), undefined);
    assert.equal(isTypeUrl('type.googleapis.com/nope.Nope'), false);
  });

  it('a cluster with fields set survives the binary round trip', () => {
    const cluster = create(ClusterSchema, {
      name: 'c1',
      clusterDiscoveryType: { case: 'type', value: 3 },
      connectTimeout: { seconds: 5n, nanos: 0 },
    });
    const back = fromBinary(ClusterSchema, toBinary(ClusterSchema, cluster));
    assert.equal(back.name, 'c1');
    assert.deepEqual(back.clusterDiscoveryType, { case: 'type', value: 3 });
    assert.equal(back.connectTimeout?.seconds, 5n);
  });
});
