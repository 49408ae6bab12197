import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { NodeSchema } from '@xds/api';
import { SnapshotCache } from '@xds/cache';
import { flavourOf, nodeKeyByFlavour } from './flavour.js';

describe('flavourOf', () => {
  it('a user agent that starts with gRPC, in any case, is a gRPC client', () => {
    for (const userAgentName of ['gRPC Node', 'grpc-go', 'GRPC C-core', 'gRPC Java']) {
      assert.equal(flavourOf(create(NodeSchema, { id: 'n', userAgentName })), 'grpc', userAgentName);
    }
  });

  it('metadata GENERATOR: grpc makes a gRPC client whatever the user agent', () => {
    const node = create(NodeSchema, { id: 'n', userAgentName: 'custom', metadata: { GENERATOR: 'grpc' } });
    assert.equal(flavourOf(node), 'grpc');
  });

  it('everything else is Envoy', () => {
    assert.equal(flavourOf(create(NodeSchema, { id: 'n', userAgentName: 'envoy' })), 'envoy');
    assert.equal(flavourOf(create(NodeSchema, { id: 'n' })), 'envoy');
    assert.equal(flavourOf(create(NodeSchema, { id: 'n', userAgentName: 'my-grpc' })), 'envoy');
    assert.equal(flavourOf(create(NodeSchema, { id: 'n', metadata: { GENERATOR: 'envoy' } })), 'envoy');
  });

  it('nodeKeyByFlavour keys a SnapshotCache by flavour', () => {
    const cache = new SnapshotCache({ nodeKey: nodeKeyByFlavour });
    assert.equal(cache.keyOf(create(NodeSchema, { id: 'a', userAgentName: 'gRPC Node' })), 'grpc');
    assert.equal(cache.keyOf(create(NodeSchema, { id: 'b', userAgentName: 'envoy' })), 'envoy');
  });
});
