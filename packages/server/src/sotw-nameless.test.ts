// A SotW response names a resource whose message carries no name (LEDS's LbEndpoint, rule R1) by a
// `Resource { name, version, resource }` wrapper, as delta does; without it a client cannot tell which resource is
// which. Other types stay unwrapped unless they carry a TTL for a client that supports TTLs (rule R4).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, fromBinary } from '@bufbuild/protobuf';
import { DiscoveryResponseSchema, LbEndpointSchema, ResourceSchema, TypeUrl } from '@xds/api';
import { encodeResource, Snapshot, type SotwResponse } from '@xds/cache';
import { encodeSotwResponse } from './codec.js';
import { assignment, start } from './test-harness.js';

const member = (id: string) => `xdstp://test.example/envoy.config.endpoint.v3.LbEndpoint/pool/${id}`;

function lbEndpoint(port: number) {
  return create(LbEndpointSchema, {
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
    loadBalancingWeight: 1,
  });
}

describe('SotW resources of a type without names', () => {
  it('R1: a SotW client on ADS gets LbEndpoints wrapped in Resource, each with its name, and ACKs them', async () => {
    const names = [member('ep0'), member('ep1'), member('ep2'), member('ep3'), member('ep4')];
    const snapshot = Snapshot.create(names.map((name, i) => ({ name, resource: lbEndpoint(7000 + i) })));
    const harness = await start({}, {}, snapshot);
    try {
      // two clients: the second is sent the body the first one's response shared (encoded once, rule R3)
      for (const id of ['a', 'b']) {
        const client = harness.client({ protocol: 'sotw', ads: true });
        client.subscribe(TypeUrl.LbEndpoint, names);
        const response = await client.next(TypeUrl.LbEndpoint);
        assert.deepEqual(response.errors, [], `client ${id}`);
        assert.deepEqual([...response.names].sort(), names);
        assert.equal(response.acked, true);
        const held = client.resources(TypeUrl.LbEndpoint);
        assert.deepEqual([...held.keys()].sort(), names);
      }
    } finally {
      await harness.close();
    }
  });

  it('R1, R4: the wrapper carries the name, the version and the resource; a ClusterLoadAssignment stays unwrapped', () => {
    const entry = encodeResource(lbEndpoint(7100), { name: member('x') });
    const response: SotwResponse = {
      typeUrl: TypeUrl.LbEndpoint,
      version: 'v1',
      resources: [entry],
      ttls: undefined,
      changed: [],
    };
    const any = fromBinary(DiscoveryResponseSchema, encodeSotwResponse(response, 'n', '')).resources[0]!;
    assert.equal(any.typeUrl, 'type.googleapis.com/envoy.service.discovery.v3.Resource');
    const wrapper = fromBinary(ResourceSchema, any.value);
    assert.equal(wrapper.name, member('x'));
    assert.equal(wrapper.version, entry.version);
    assert.equal(wrapper.resource?.typeUrl, TypeUrl.LbEndpoint);
    assert.deepEqual(Buffer.from(wrapper.resource!.value), Buffer.from(entry.bytes));
    const cla: SotwResponse = {
      ...response,
      typeUrl: TypeUrl.Endpoint,
      resources: [encodeResource(assignment('c', 1))],
    };
    const plain = fromBinary(DiscoveryResponseSchema, encodeSotwResponse(cla, 'n', '')).resources[0]!;
    assert.equal(plain.typeUrl, TypeUrl.Endpoint);
  });
});
