// The hand-written Any and delta Resource writers (wire-forms.ts) against protobuf-es (rule L1: a hand-written
// wire writer agrees with protobuf-es), on lengths across every varint boundary and on random content; and the
// lazy content version of an opaque resource (rule D4: the same hash, whenever it is read).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { ResourceSchema, TypeUrl } from '@xds/api';
import { contentHash, opaqueResource } from './encoded-resource.js';
import { encodeAny, encodeDeltaResource } from './wire-forms.js';

/** Lengths on both sides of the 1-, 2- and 3-byte varint limits, and small ones. */
const lengths = [0, 1, 2, 126, 127, 128, 129, 16_383, 16_384, 16_385, 2_097_151, 2_097_152];

/** A deterministic pseudo-random generator, so that a failure replays. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

function text(next: () => number, length: number): string {
  const alphabet = ['a', 'Z', '9', '/', '.', 'é', '中', '😀', '\u0000'];
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(next() * alphabet.length)];
  return out;
}

describe('wire forms', () => {
  it('L1: encodeAny writes what protobuf-es writes for the same Any', () => {
    const next = random(20261202);
    const cases: [string, Uint8Array][] = lengths.map((length) => [TypeUrl.Cluster, randomBytes(length)]);
    for (const length of [0, 1, 130, 20_000]) cases.push(['x'.repeat(length), randomBytes(5)]);
    for (let i = 0; i < 500; i++)
      cases.push([text(next, Math.floor(next() * 200)), randomBytes(Math.floor(next() * 3000))]);
    for (const [typeUrl, value] of cases) {
      const ours = encodeAny(typeUrl, value);
      assert.deepEqual(
        Buffer.from(ours),
        Buffer.from(toBinary(AnySchema, create(AnySchema, { typeUrl, value }))),
        `type_url of ${typeUrl.length} characters, value of ${value.length} bytes`,
      );
      const back = fromBinary(AnySchema, ours);
      assert.equal(back.typeUrl, typeUrl);
      assert.deepEqual(Buffer.from(back.value), Buffer.from(value));
    }
  });

  it('L1: encodeDeltaResource decodes, with protobuf-es, to the same Resource', () => {
    const next = random(7);
    const cases: [string, string, Uint8Array][] = lengths.map((length) => ['web', 'v1', randomBytes(length)]);
    cases.push(['', '', new Uint8Array(0)]);
    for (let i = 0; i < 500; i++)
      cases.push([
        text(next, Math.floor(next() * 300)),
        text(next, 16),
        randomBytes(Math.floor(next() * 2000)),
      ]);
    for (const [name, version, value] of cases) {
      const any = encodeAny(TypeUrl.Endpoint, value);
      const ours = encodeDeltaResource(name, version, any);
      const back = fromBinary(ResourceSchema, ours);
      assert.equal(back.name, name);
      assert.equal(back.version, version);
      assert.deepEqual(
        Buffer.from(back.resource === undefined ? [] : toBinary(AnySchema, back.resource)),
        Buffer.from(any),
      );
      // and the same bytes as protobuf-es would write, but for the field order (ours: name, version, resource)
      const theirs = toBinary(
        ResourceSchema,
        create(ResourceSchema, { name, version, resource: back.resource }),
      );
      assert.equal(ours.length, theirs.length, `name of ${name.length}, value of ${value.length} bytes`);
    }
  });

  it("D4: an opaque resource's version is the hash of its bytes, the same whenever it is read", () => {
    const bytes = new Uint8Array([10, 3, 119, 101, 98]);
    const resource = opaqueResource({ typeUrl: TypeUrl.Cluster, bytes });
    assert.equal(resource.name, 'web');
    assert.equal(resource.version, contentHash(bytes));
    assert.equal(resource.version, contentHash(bytes));
    assert.equal(
      fromBinary(ResourceSchema, resource.deltaResource).version,
      contentHash(bytes),
      'the delta Resource carries the same version',
    );
  });
});
