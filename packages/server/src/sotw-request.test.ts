import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, equals, fromBinary, type MessageInitShape, toBinary } from '@bufbuild/protobuf';
import { type DiscoveryRequest, DiscoveryRequestSchema, NodeSchema, TypeUrl } from '@xds/api';
import { Snapshot } from '@xds/cache';
import { UndecodableRequest } from './codec.js';
import { resourceNamesBytes, sotwRequestDecoder } from './sotw-request.js';
import { assignment, start } from './test-harness.js';

describe('SotW request decoding', () => {
  const decoder = sotwRequestDecoder(DiscoveryRequestSchema);
  const names = Array.from({ length: 20 }, (_, i) => `service-${i}.ns.svc.cluster.local:80`);
  const encode = (fields: MessageInitShape<typeof DiscoveryRequestSchema>) =>
    Buffer.from(toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, fields)));

  it('S9: a long resource_names list is decoded when read, and its bytes are kept', () => {
    const bytes = encode({
      node: { id: 'n' },
      typeUrl: TypeUrl.Endpoint,
      resourceNames: names,
      responseNonce: '7',
    });
    const request = decoder(bytes);
    assert.ok(!(request instanceof UndecodableRequest));
    assert.equal(request.node?.id, 'n');
    assert.equal(request.responseNonce, '7');
    assert.equal(request.typeUrl, TypeUrl.Endpoint);
    assert.deepEqual(request.resourceNames, names);
    const kept = resourceNamesBytes(request);
    assert.ok(kept !== undefined && kept.length > 20 * names[0]!.length);
    // The same names in another request give the same bytes; one name changed gives others.
    const again = decoder(encode({ typeUrl: TypeUrl.Endpoint, resourceNames: names, responseNonce: '8' }));
    assert.ok(kept.equals(resourceNamesBytes(again as object)!));
    const other = decoder(encode({ resourceNames: [...names.slice(0, 19), 'other'] }));
    assert.ok(!kept.equals(resourceNamesBytes(other as object)!));
  });

  it('short lists, names split by other fields and bad bytes are decoded whole', () => {
    const short = decoder(encode({ resourceNames: ['a', 'b'] }));
    assert.deepEqual((short as DiscoveryRequest).resourceNames, ['a', 'b']);
    assert.equal(resourceNamesBytes(short as object), undefined);
    // resource_names, then type_url, then more resource_names: legal protobuf, decoded by protobuf-es.
    const head = encode({ resourceNames: names.slice(0, 10) });
    const middle = encode({ typeUrl: TypeUrl.Cluster });
    const tail = encode({ resourceNames: names.slice(10) });
    const split = decoder(Buffer.concat([head, middle, tail])) as DiscoveryRequest;
    assert.deepEqual(split.resourceNames, names);
    assert.equal(split.typeUrl, TypeUrl.Cluster);
    const bad = decoder(Buffer.concat([encode({ resourceNames: names }), Buffer.from([0x1a, 0x7f])]));
    assert.ok(bad instanceof UndecodableRequest);
    assert.match(bad.message, /envoy.service.discovery.v3.DiscoveryRequest does not parse/);
  });
});

/** protobuf-es's decode of `bytes`, or undefined when it refuses them. */
function protobufEs(bytes: Buffer): DiscoveryRequest | undefined {
  try {
    return fromBinary(DiscoveryRequestSchema, bytes);
  } catch {
    return undefined;
  }
}

describe('requests read field by field, names left encoded (L1)', () => {
  // Without limits: no wire pass before the reader, so that it meets every shape itself.
  const decode = sotwRequestDecoder(DiscoveryRequestSchema);
  const names = Array.from({ length: 12 }, (_, i) => `svc-${i}`);
  const bytesOf = (value: string | readonly number[]) =>
    typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
  /** A length-delimited field whose body is shorter than 128 bytes. */
  const field = (no: number, value: string | readonly number[] | Uint8Array) => {
    const body = value instanceof Uint8Array ? value : bytesOf(value);
    assert.ok(body.length < 128);
    return Buffer.concat([Buffer.from([(no << 3) | 2, body.length]), body]);
  };
  const run = Buffer.concat(names.map((name) => field(3, name)));
  const node = (id: string) => toBinary(NodeSchema, create(NodeSchema, { id, cluster: 'c' }));
  const statusSchema = DiscoveryRequestSchema.field.errorDetail!.message!;
  const status = toBinary(statusSchema, create(statusSchema, { code: 3, message: 'rejected' }));
  const eds = TypeUrl.Endpoint;
  const cases: [label: string, bytes: Buffer, lazy: boolean][] = [
    ['an ACK', Buffer.concat([field(1, 'v1'), run, field(4, eds), field(5, '7')]), true],
    ['a first request', Buffer.concat([field(2, node('n1')), run, field(4, eds)]), true],
    ['the node after the names', Buffer.concat([run, field(2, node('n1')), field(5, '1')]), true],
    ['a NACK', Buffer.concat([field(1, 'v1'), run, field(4, eds), field(5, '2'), field(6, status)]), true],
    ['only names', run, true],
    ['an empty version', Buffer.concat([field(1, ''), run]), true],
    [
      'strings beyond ASCII, a leading U+FEFF kept',
      Buffer.concat([field(1, '\uFEFFvé'), run, field(4, 'type/é€😀'), field(5, '\uFEFF')]),
      true,
    ],
    ['version_info not UTF-8', Buffer.concat([field(1, [0xc3, 0x28]), run]), false],
    ['type_url cut inside a character', Buffer.concat([run, field(4, [0xe2, 0x82])]), false],
    ['a lone surrogate in the nonce', Buffer.concat([run, field(5, [0xed, 0xa0, 0x80])]), false],
    ['version_info twice', Buffer.concat([field(1, 'a'), run, field(1, 'b')]), false],
    ['version_info twice, the first not UTF-8', Buffer.concat([field(1, [0xff]), run, field(1, 'b')]), false],
    ['the node twice (merged)', Buffer.concat([field(2, node('a')), run, field(2, node('b'))]), false],
    // A node whose last field says 9 bytes where 3 are left: protobuf-es reads on into the names.
    ['a node running on into the names', Buffer.concat([field(2, [0x0a, 9, 0x61, 0x62, 0x63]), run]), false],
    ['a node whose field is cut', Buffer.concat([run, field(2, [0x0a, 9, 0x61])]), false],
    ['resource_locators', Buffer.concat([run, field(7, [0x0a, 1, 0x61])]), false],
    ['an unknown field', Buffer.concat([run, field(15, 'x')]), false],
    ['a varint field', Buffer.concat([run, Buffer.from([0x08, 1])]), false],
    [
      'a wildcard ACK: no names',
      Buffer.concat([field(1, 'v1'), field(4, TypeUrl.Cluster), field(5, '3')]),
      false,
    ],
    ['an empty request', Buffer.alloc(0), false],
    [
      'three names, one beyond ASCII',
      Buffer.concat([
        field(1, 'v1'),
        field(3, 'a'),
        field(3, 'b'),
        field(3, 'é'),
        field(4, eds),
        field(5, '4'),
      ]),
      false,
    ],
    [
      'three names, one not UTF-8',
      Buffer.concat([field(3, 'a'), field(3, [0xc3, 0x28]), field(3, 'b')]),
      false,
    ],
    ['three names split by a field', Buffer.concat([field(3, 'a'), field(1, 'v'), field(3, 'b')]), false],
  ];
  for (const [label, bytes, lazy] of cases) {
    it(`L1: ${label}`, () => {
      const expected = protobufEs(bytes);
      const got = decode(bytes);
      if (expected === undefined) {
        assert.ok(got instanceof UndecodableRequest, 'protobuf-es refuses, the decoder reads it');
        return;
      }
      assert.ok(!(got instanceof UndecodableRequest), got instanceof UndecodableRequest ? got.message : '');
      assert.deepEqual([...got.resourceNames], expected.resourceNames);
      assert.ok(equals(DiscoveryRequestSchema, got, expected), 'messages differ');
      // The same fields as protobuf-es's message: a message field only when present.
      assert.deepEqual(Object.keys(got).sort(), Object.keys(expected).sort());
      assert.equal(resourceNamesBytes(got) !== undefined, lazy, 'names left encoded');
    });
  }
});

describe('names set on a decoded request (L5)', () => {
  const decode = sotwRequestDecoder(DiscoveryRequestSchema);
  const names = Array.from({ length: 20 }, (_, i) => `c${i}`);
  const bytes = Buffer.from(
    toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, { resourceNames: names })),
  );

  it('L5: names set on the request replace its encoded names: their bytes are no longer kept', () => {
    const request = decode(bytes) as DiscoveryRequest;
    assert.ok(resourceNamesBytes(request) !== undefined);
    request.resourceNames = ['c0'];
    assert.deepEqual(request.resourceNames, ['c0']);
    assert.equal(resourceNamesBytes(request), undefined);
    const again = decode(bytes) as DiscoveryRequest;
    assert.deepEqual(again.resourceNames, names);
    assert.deepEqual({ ...again }.resourceNames, names, 'the field is an own enumerable one');
  });

  it('L5: names an onRequest hook replaced for one node do not become what the same bytes mean for another', async () => {
    const snapshot = Snapshot.create(names.map((name, i) => assignment(name, 9000 + i)));
    const h = await start(
      {
        hooks: {
          onRequest: (request, ctx) => {
            if (ctx.nodeId === 'a') (request as DiscoveryRequest).resourceNames = ['c0'];
          },
        },
      },
      {},
      undefined,
    );
    try {
      h.cache.setSnapshot('a', snapshot);
      h.cache.setSnapshot('b', snapshot);
      const a = h.client({ node: 'a' });
      a.subscribe(TypeUrl.Endpoint, names);
      assert.deepEqual((await a.next(TypeUrl.Endpoint)).names, ['c0']);
      const b = h.client({ node: 'b' });
      b.subscribe(TypeUrl.Endpoint, names);
      assert.deepEqual([...(await b.next(TypeUrl.Endpoint)).names].sort(), [...names].sort());
    } finally {
      await h.close();
    }
  });
});
