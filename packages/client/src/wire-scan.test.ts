// Rule L1: the wire reader that counts a response's resources before decoding them agrees with protobuf-es on
// every message protobuf-es reads (random responses, with unknown fields, multi-byte tags and lengths, and random
// mutations of them), or declines. Seeded, so a failure repeats.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { DeltaDiscoveryResponseSchema, DiscoveryResponseSchema, ResourceSchema } from '@xds/api';
import { receive } from './protocol.js';
import { scanField, withoutField } from './wire-scan.js';

/** A small seeded PRNG (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function text(rand: () => number, max: number): string {
  const length = Math.floor(rand() * max);
  return Array.from({ length }, () => String.fromCharCode(97 + Math.floor(rand() * 26))).join('');
}

/** A random response, SotW or delta, with some unknown fields (a high field number: a multi-byte tag). */
function sample(rand: () => number, delta: boolean): Uint8Array {
  const anys = Array.from({ length: Math.floor(rand() * 6) }, () =>
    create(AnySchema, {
      typeUrl: text(rand, 40),
      value: new TextEncoder().encode(text(rand, rand() < 0.1 ? 300 : 20)),
    }),
  );
  const body = delta
    ? toBinary(
        DeltaDiscoveryResponseSchema,
        create(DeltaDiscoveryResponseSchema, {
          systemVersionInfo: text(rand, 10),
          typeUrl: text(rand, 30),
          nonce: text(rand, 5),
          removedResources: Array.from({ length: Math.floor(rand() * 3) }, () => text(rand, 8)),
          removedResourceNames: Array.from({ length: Math.floor(rand() * 3) }, () => ({
            name: text(rand, 8),
          })),
          resources: anys.map((resource) => ({ name: text(rand, 8), version: text(rand, 4), resource })),
        }),
      )
    : toBinary(
        DiscoveryResponseSchema,
        create(DiscoveryResponseSchema, {
          versionInfo: text(rand, 10),
          typeUrl: text(rand, 30),
          nonce: text(rand, 5),
          canary: rand() < 0.5,
          resources: anys,
        }),
      );
  // An unknown varint field 1000 (tag 8000: two bytes) and an unknown fixed32 field 9, placed at random.
  const unknown = rand() < 0.5 ? [0xc0, 0x3e, 0x96, 0x01] : [0x4d, 1, 2, 3, 4];
  const at = rand() < 0.5 ? 0 : body.length;
  return new Uint8Array([...body.subarray(0, at), ...unknown, ...body.subarray(at)]);
}

for (const delta of [false, true]) {
  const schema = delta ? DeltaDiscoveryResponseSchema : DiscoveryResponseSchema;
  const entry = delta ? ResourceSchema : AnySchema;
  const removalFields = delta ? [6, 8] : [];
  const read = (bytes: Uint8Array, max = 1000, maxRemoved = 1000) =>
    receive<ReturnType<typeof fromBinary<typeof schema>>>(
      bytes,
      { maxResourcesPerType: max, maxRemovedPerResponse: maxRemoved },
      schema,
      entry,
      removalFields,
    );
  describe(`wire scan of a ${delta ? 'DeltaDiscoveryResponse' : 'DiscoveryResponse'}`, () => {
    it('L1: counts what protobuf-es decodes, and without the field decodes to the same message less its resources', () => {
      const rand = random(delta ? 7 : 11);
      for (let i = 0; i < 2000; i++) {
        const bytes = sample(rand, delta);
        const decoded = fromBinary(schema, bytes);
        const scan = scanField(bytes, 2);
        assert.ok(scan !== undefined, `case ${i}: a well-formed message is not declined`);
        assert.equal(scan.count, decoded.resources.length, `case ${i}`);
        const rest = fromBinary(schema, withoutField(bytes, 2, scan));
        assert.deepEqual(rest.resources, []);
        decoded.resources = [];
        const received = read(bytes);
        assert.equal(received.withheld, 0);
        assert.deepEqual(
          toBinary(schema, received.message),
          toBinary(schema, fromBinary(schema, bytes)),
          `case ${i}`,
        );
        if (scan.count > 0)
          assert.equal(read(bytes, scan.count - 1).withheld, scan.count, `case ${i}: withheld`);
        if (delta) {
          // Removals past the limit are counted from the wire and left out; the rest is protobuf-es's.
          const full = fromBinary(DeltaDiscoveryResponseSchema, bytes);
          const removals = full.removedResources.length + full.removedResourceNames.length;
          assert.equal(received.withheldRemoved, 0);
          if (removals > 0) {
            const cut = read(bytes, 1000, removals - 1);
            assert.equal(cut.withheldRemoved, removals, `case ${i}: removals withheld`);
            full.removedResources = [];
            full.removedResourceNames = [];
            assert.deepEqual(
              toBinary(DeltaDiscoveryResponseSchema, cut.message as typeof full),
              toBinary(DeltaDiscoveryResponseSchema, full),
              `case ${i}: only the removals are left out`,
            );
          }
        }
        assert.deepEqual(
          toBinary(schema, rest),
          toBinary(schema, decoded),
          `case ${i}: the other fields stay`,
        );
      }
    });

    it('L1: on mutated bytes the reader agrees with protobuf-es whenever both read them', () => {
      const rand = random(delta ? 13 : 17);
      let agreed = 0;
      for (let i = 0; i < 3000; i++) {
        const bytes = sample(rand, delta);
        for (let flips = 1 + Math.floor(rand() * 3); flips > 0 && bytes.length > 0; flips--)
          bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
        let decoded: ReturnType<typeof fromBinary<typeof schema>> | undefined;
        try {
          decoded = fromBinary(schema, bytes);
        } catch {
          decoded = undefined;
        }
        let ours: ReturnType<typeof read> | undefined;
        try {
          ours = read(bytes);
        } catch {
          ours = undefined;
        }
        if (decoded === undefined || ours === undefined) continue;
        const hex = Buffer.from(bytes).toString('hex');
        assert.equal(ours.message.resources.length, decoded.resources.length, `case ${i}: ${hex}`);
        assert.deepEqual(toBinary(schema, ours.message), toBinary(schema, decoded), `case ${i}: ${hex}`);
        agreed++;
      }
      assert.ok(agreed > 500, `most mutated messages were compared (${agreed})`);
    });
  });

  it('L1: a resource whose field runs past its own bytes is refused, not read on into the next field as protobuf-es does', () => {
    // An Any of 3 bytes holding a field of 5: protobuf-es reads on into version_info, whose body is 60 resources.
    const body = [0, 0, 0, ...Array.from({ length: 60 }, () => [0x12, 0]).flat()];
    const bytes = new Uint8Array([0x12, 3, 0xa2, 0x0d, 5, 0x0a, body.length, ...body]);
    assert.equal(fromBinary(DiscoveryResponseSchema, bytes).resources.length, 61);
    assert.throws(() =>
      receive(
        bytes,
        { maxResourcesPerType: 10, maxRemovedPerResponse: 10 },
        DiscoveryResponseSchema,
        AnySchema,
      ),
    );
  });
}
