// Rule L1: the server's request deserializers (the lazy SotW name scanner, protobuf-es for the rest) agree with
// protobuf-es's own `fromBinary` on every input: the same message and names, or both refuse. Property tests over
// random and mutated requests with a printed seed (replay one with XDS_PROPERTY_SEED=<seed>); the node and CSDS
// bounds are in wire-node-bounds.test.ts, the helpers in test-agree.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { DeltaDiscoveryRequestSchema, DiscoveryRequestSchema, discoveryMethods, TypeUrl } from '@xds/api';
import { requestDecoder, UndecodableRequest } from './codec.js';
import { defaultLimits } from './limits.js';
import { sotwRequestDecoder } from './sotw-request.js';
import { agree, cases, outcomes, property, seed } from './test-agree.js';
import { type Harness, nextEvent, start } from './test-harness.js';
import { grpcFrame, methodPathOf, RawConnection, until } from './test-raw-client.js';
import { deltaShape, overlongTagRequest, sotwShape } from './test-wire.js';

describe(`wire readers agree with protobuf-es (seed ${seed})`, () => {
  // The decoders as the server builds them: the wire pass of request-wire.ts first (rule L2).
  const sotw = sotwRequestDecoder(DiscoveryRequestSchema, defaultLimits);

  it('L1: the 92-byte request with a two-byte resource_names tag decodes to protobuf-es names', () => {
    const bytes = overlongTagRequest();
    assert.equal(bytes.length, 92);
    agree(DiscoveryRequestSchema, sotw, bytes, 'the 92-byte request');
    const request = sotw(bytes);
    assert.ok(!(request instanceof UndecodableRequest));
    assert.equal(request.resourceNames.length, 8);
    assert.equal(request.resourceNames[7], 'éé');
  });

  it('L1: lazy names of every field shape: long lengths, overlong tags and lengths, split runs', () => {
    const long = 'x'.repeat(300);
    const field = (tag: number[], name: string, extraLength = 0) => {
      const bytes = Buffer.from(name, 'utf8');
      const length: number[] = [];
      let rest = bytes.length;
      do {
        length.push(rest & 0x7f);
        rest >>>= 7;
      } while (rest > 0);
      for (let i = 0; i < extraLength; i++) length.push(0);
      for (let i = 0; i < length.length - 1; i++) length[i]! |= 0x80;
      return [...tag, ...length, ...bytes];
    };
    const variants: number[][] = [
      Array.from({ length: 10 }, (_, i) => field([0x1a], `${long}${i}`)).flat(),
      Array.from({ length: 10 }, (_, i) => field([0x9a, 0x80, 0x00], `n${i}`, i % 3)).flat(),
      // An overlong tag of 6 bytes is more than a uint32: protobuf-es refuses it.
      [
        ...Array.from({ length: 9 }, (_, i) => field([0x1a], `n${i}`)).flat(),
        ...field([0x9a, 0x80, 0x80, 0x80, 0x80, 0x00], 'x'),
      ],
      // Names, an unknown varint field, names again.
      [
        ...Array.from({ length: 9 }, (_, i) => field([0x1a], `n${i}`)).flat(),
        0x98,
        0x06,
        0x01,
        ...Array.from({ length: 9 }, (_, i) => field([0x1a], `m${i}`)).flat(),
      ],
      // Not UTF-8 in one name: protobuf-es refuses the request.
      [...Array.from({ length: 9 }, (_, i) => field([0x1a], `n${i}`)).flat(), 0x1a, 0x02, 0xc3, 0x28],
      // A length past the end.
      [...Array.from({ length: 9 }, (_, i) => field([0x1a], `n${i}`)).flat(), 0x1a, 0x7f, 0x61],
    ];
    for (const [i, bytes] of variants.entries())
      agree(DiscoveryRequestSchema, sotw, Buffer.from(bytes), `variant ${i}`);
  });

  it(`L1: SotW requests, random and mutated (${cases} cases, seed ${seed})`, (t) => {
    const run = property(DiscoveryRequestSchema, sotw, sotwShape);
    t.diagnostic(`${run} cases; so far ${JSON.stringify(outcomes)}`);
  });

  it(`L1: delta requests, random and mutated (${cases} cases, seed ${seed})`, (t) => {
    const run = property(
      DeltaDiscoveryRequestSchema,
      requestDecoder(DeltaDiscoveryRequestSchema, defaultLimits),
      deltaShape,
    );
    t.diagnostic(`${run} cases; so far ${JSON.stringify(outcomes)}`);
    // Most cases are read by both: the wire pass does not refuse its way out of the property.
    assert.ok(outcomes.agreed > outcomes.notCanonical * 4, JSON.stringify(outcomes));
  });
});

describe('L1 over gRPC', () => {
  let h: Harness;
  before(async () => {
    h = await start();
  });
  after(async () => {
    await h.close();
  });

  const fetchEndpoints = discoveryMethods.find((m) => m.typeUrl === TypeUrl.Endpoint && m.kind === 'fetch')!;

  it('L1: the 92-byte request gets a status on ADS, a per-type stream and Fetch, and the server serves on', async () => {
    const connection = new RawConnection(Number(h.address.split(':')[1]));
    try {
      const bytes = overlongTagRequest();
      for (const path of [methodPathOf('sotw'), methodPathOf('sotw', TypeUrl.Endpoint)]) {
        const stream = connection.open(path);
        stream.write(grpcFrame(bytes));
        // The client's side ends too, so that the HTTP/2 stream closes once the server has answered.
        stream.stream.end();
        const end = await stream.ended;
        assert.equal(end.grpcStatus, status.INVALID_ARGUMENT, path);
        assert.match(end.grpcMessage ?? '', /node\.id/);
      }
      const fetch = connection.open(fetchEndpoints.path);
      fetch.write(grpcFrame(bytes));
      fetch.stream.end();
      const fetched = await fetch.ended;
      assert.equal(fetched.grpcStatus, status.INVALID_ARGUMENT);
      // With a node and a type in front, the server reads the names protobuf-es reads.
      const head = toBinary(
        DiscoveryRequestSchema,
        create(DiscoveryRequestSchema, { node: { id: 'n1' }, typeUrl: TypeUrl.Endpoint }),
      );
      const request = Buffer.concat([head, bytes]);
      const seen = nextEvent(h.server, 'request', (e) => e.nodeId === 'n1' && e.typeUrl === TypeUrl.Endpoint);
      const stream = connection.open(methodPathOf('sotw'));
      stream.write(grpcFrame(request));
      assert.deepEqual([...(await seen).names], fromBinary(DiscoveryRequestSchema, request).resourceNames);
      await until(() => stream.responses.length > 0, 'a response to the request with a node');
      stream.cancel();
      // Another client is served as usual.
      const other = h.client();
      other.subscribe(TypeUrl.Cluster, []);
      assert.deepEqual((await other.next(TypeUrl.Cluster)).names, ['c1', 'c2']);
    } finally {
      connection.close();
    }
  });
});
