import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromBinary } from '@bufbuild/protobuf';
import { DeltaDiscoveryResponseSchema, DiscoveryResponseSchema, TypeUrl } from '@xds/api';
import { encodeResource, type SotwResponse } from '@xds/cache';
import { encodeDeltaResponse, encodeSotwResponse } from './codec.js';
import { assignment } from './test-harness.js';

const entries = Array.from({ length: 6 }, (_, i) => encodeResource(assignment(`e${i}`, 1000 + i)));

function sotw(resources: SotwResponse['resources'], version = 'v1'): SotwResponse {
  return { typeUrl: TypeUrl.Endpoint, version, resources, ttls: undefined, changed: [] };
}

function decode(bytes: Uint8Array) {
  return fromBinary(DiscoveryResponseSchema, bytes);
}

describe('response encoding', () => {
  it('R3: a SotW response carries the pre-encoded resources, the version, the type, the nonce and the control plane', () => {
    const response = decode(encodeSotwResponse(sotw(entries), 'n-1', 'cp-7'));
    assert.equal(response.versionInfo, 'v1');
    assert.equal(response.typeUrl, TypeUrl.Endpoint);
    assert.equal(response.nonce, 'n-1');
    assert.equal(response.controlPlane?.identifier, 'cp-7');
    assert.deepEqual(
      response.resources.map((r) => Buffer.from(r.value)),
      entries.map((e) => Buffer.from(e.bytes)),
    );
  });

  it('streams sent the same list share its body; a list that differs in one entry never does', () => {
    const a = decode(encodeSotwResponse(sotw([...entries]), 'a', ''));
    const b = decode(encodeSotwResponse(sotw([...entries]), 'b', ''));
    assert.deepEqual(
      b.resources.map((r) => Buffer.from(r.value)),
      a.resources.map((r) => Buffer.from(r.value)),
    );
    assert.equal(b.nonce, 'b');
    // Same version, same length, one entry replaced: the remembered body must not be reused.
    const other = encodeResource(assignment('e3', 4242));
    const changed = [...entries.slice(0, 3), other, ...entries.slice(4)];
    const c = decode(encodeSotwResponse(sotw(changed), 'c', ''));
    assert.deepEqual(Buffer.from(c.resources[3]!.value), Buffer.from(other.bytes));
    assert.equal(c.nonce, 'c');
    // Same entries at another version or control plane: their own body.
    assert.equal(decode(encodeSotwResponse(sotw([...entries], 'v2'), 'd', '')).versionInfo, 'v2');
    assert.equal(decode(encodeSotwResponse(sotw([...entries]), 'e', 'cp')).controlPlane?.identifier, 'cp');
    assert.equal(decode(encodeSotwResponse(sotw([...entries]), 'f', '')).controlPlane, undefined);
  });

  it('a shared frozen list and an empty list encode like any other', () => {
    const frozen = Object.freeze([...entries]);
    for (const nonce of ['1', '2']) {
      const response = decode(encodeSotwResponse(sotw(frozen), nonce, ''));
      assert.equal(response.nonce, nonce);
      assert.equal(response.resources.length, entries.length);
    }
    const empty = decode(encodeSotwResponse(sotw([]), 'z', ''));
    assert.deepEqual([empty.resources.length, empty.nonce, empty.versionInfo], [0, 'z', 'v1']);
  });

  it('D4: a delta response carries named, versioned resources, removed names and the nonce', () => {
    const long = 'x'.repeat(300); // a name whose length needs a two-byte varint
    const response = fromBinary(
      DeltaDiscoveryResponseSchema,
      encodeDeltaResponse(
        {
          typeUrl: TypeUrl.Endpoint,
          systemVersion: 's1',
          resources: entries.slice(0, 2),
          removed: ['gone', long],
          ttls: undefined,
        },
        'n9',
        'cp',
      ),
    );
    assert.equal(response.systemVersionInfo, 's1');
    assert.equal(response.nonce, 'n9');
    assert.deepEqual(response.removedResources, ['gone', long]);
    assert.deepEqual(
      response.resources.map((r) => [r.name, r.version]),
      entries.slice(0, 2).map((e) => [e.name, e.version]),
    );
    assert.equal(response.controlPlane?.identifier, 'cp');
  });
});
