// Rule L1 for the name reader over encoded bytes (for opaque types): on well-formed bytes it reads what protobuf-es
// reads; on malformed ones it declines; types with a schema read names by decoding.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ClusterSchema } from './gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from './gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { NameNotReadable, stringField } from './name-field.js';
import { resourceType } from './resource-type.js';
import { TypeUrl } from './type-url.js';

/** A small seeded generator (xorshift32), so that a failure can be replayed. */
function random(seed: number) {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  return {
    int: (n: number) => next() % n,
    pick: <T>(items: readonly T[]) => items[next() % items.length]!,
  };
}

const alphabet = ['a', 'b', '/', '*', 'é', '名', '😀', '\u0000', ':', ' ', '|'];

function randomCluster(r: ReturnType<typeof random>) {
  const name = Array.from({ length: r.int(12) }, () => r.pick(alphabet)).join('');
  return create(ClusterSchema, {
    name,
    altStatName: r.int(2) === 0 ? 'alt' : '',
    connectTimeout: r.int(2) === 0 ? { seconds: BigInt(r.int(100)), nanos: 0 } : undefined,
    clusterDiscoveryType: { case: 'type', value: r.int(5) },
    loadAssignment:
      r.int(2) === 0 ? create(ClusterLoadAssignmentSchema, { clusterName: `cla-${r.int(1000)}` }) : undefined,
  });
}

describe('stringField (rule L1)', () => {
  const read = stringField(1);

  it('L1: reads the name of well-formed messages as protobuf-es does, never declining', () => {
    const r = random(0x5eed);
    for (let i = 0; i < 500; i++) {
      const cluster = randomCluster(r);
      const bytes = toBinary(ClusterSchema, cluster);
      assert.equal(read(bytes), fromBinary(ClusterSchema, bytes).name);
    }
  });

  it('L1: the last occurrence wins, as when protobuf-es merges two encodings', () => {
    const a = toBinary(ClusterSchema, create(ClusterSchema, { name: 'first', altStatName: 'x' }));
    const b = toBinary(ClusterSchema, create(ClusterSchema, { name: 'second' }));
    const both = new Uint8Array([...a, ...b]);
    assert.equal(fromBinary(ClusterSchema, both).name, 'second');
    assert.equal(read(both), 'second');
    assert.equal(read(new Uint8Array()), '');
  });

  it('L1: where protobuf-es misreads bytes, types with a schema read the name by decoding, as it does', () => {
    // use_tcp_for_dns_lookups (45, bool) sent length-delimited: protobuf-es reads a varint there and then takes the
    // nested bytes for top-level fields. A plain skip reads another name; the Cluster type decodes, so it agrees.
    const bytes = Uint8Array.from(Buffer.from('0a0161ea02090a07636c612d333936', 'hex'));
    assert.equal(fromBinary(ClusterSchema, bytes).name, 'cla-396');
    assert.equal(read(bytes), 'a');
    assert.equal(resourceType(TypeUrl.Cluster)!.nameOfBytes?.(bytes), 'cla-396');
    assert.throws(
      () => resourceType(TypeUrl.Cluster)!.nameOfBytes?.(new Uint8Array([0x0a, 0x05])),
      NameNotReadable,
    );
  });

  it('L1: declines a name field sent with another wire type, and malformed bytes', () => {
    assert.throws(() => read(new Uint8Array([0x08, 0x01])), NameNotReadable);
    assert.throws(() => read(new Uint8Array([0x0a, 0x05, 0x61])), NameNotReadable);
    assert.throws(() => read(new Uint8Array([0x00])), NameNotReadable);
    assert.throws(() => stringField(0), RangeError);
  });

  it('R1: built-in types read their name from bytes (cluster_name for ClusterLoadAssignment)', () => {
    const cla = create(ClusterLoadAssignmentSchema, { clusterName: 'outbound|80||a' });
    const type = resourceType(TypeUrl.Endpoint)!;
    assert.equal(type.nameOfBytes?.(toBinary(ClusterLoadAssignmentSchema, cla)), 'outbound|80||a');
  });
});
