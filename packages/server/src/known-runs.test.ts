// The SotW decoder's memory of runs of names (known-runs.ts): a request that repeats a run seen before is taken by
// one comparison, and must still decode exactly as protobuf-es does (rule L1) and be checked as any other (L2, L5).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { create, equals, fromBinary, toBinary } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { DiscoveryRequestSchema, TypeUrl } from '@xds/api';
import { Snapshot } from '@xds/cache';
import { UndecodableRequest } from './codec.js';
import { resourceNamesBytes, sharedNamesBytes, sotwRequestDecoder } from './sotw-request.js';
import { assignment, type Harness, start } from './test-harness.js';

const { Endpoint } = TypeUrl;
const decode = sotwRequestDecoder(DiscoveryRequestSchema);

/** The encoded request: `version_info`, the names as a run of field 3, `type_url`, `response_nonce`. */
function encoded(names: readonly string[], nonce = '1'): Buffer {
  const request = create(DiscoveryRequestSchema, {
    versionInfo: 'v1',
    resourceNames: [...names],
    typeUrl: Endpoint,
    responseNonce: nonce,
  });
  return Buffer.from(toBinary(DiscoveryRequestSchema, request));
}

/** Asserts that the decoder and protobuf-es agree on `bytes` (the same message and names, or both refuse). */
function agree(bytes: Buffer, label: string): void {
  let expected: ReturnType<typeof fromBinary<typeof DiscoveryRequestSchema>> | undefined;
  try {
    expected = fromBinary(DiscoveryRequestSchema, bytes);
  } catch {
    expected = undefined;
  }
  const got = decode(bytes);
  if (expected === undefined) {
    assert.ok(got instanceof UndecodableRequest, `${label}: protobuf-es refuses, the decoder reads it`);
    return;
  }
  assert.ok(!(got instanceof UndecodableRequest), `${label}: ${String((got as UndecodableRequest).message)}`);
  assert.deepEqual([...got.resourceNames], expected.resourceNames, `${label}: names`);
  assert.ok(equals(DiscoveryRequestSchema, got, expected), `${label}: message`);
}

const names = Array.from({ length: 20 }, (_, i) => `cluster-${i}.example`);

describe('requests repeating a run of names seen before (L1)', () => {
  it('L1: a repeated run is one shared buffer; whole, extended, cut or changed, requests decode as protobuf-es does', () => {
    const first = decode(encoded(names, 'a'));
    const second = decode(encoded(names, 'b'));
    const third = decode(encoded(names, 'c'));
    assert.ok(!(third instanceof UndecodableRequest) && !(second instanceof UndecodableRequest));
    assert.ok(!(first instanceof UndecodableRequest));
    const shared = sharedNamesBytes(third);
    assert.ok(shared !== undefined, 'the run is remembered once seen twice');
    assert.equal(sharedNamesBytes(decode(encoded(names, 'd')) as object), shared, 'the same buffer');
    assert.equal(resourceNamesBytes(third), shared);
    assert.deepEqual([...third.resourceNames], names);
    assert.equal(third.responseNonce, 'c');

    const whole = encoded(names, 'e');
    const run = whole.indexOf(shared);
    assert.ok(run > 0);
    const end = run + shared.length;
    const field3 = (name: Buffer) => Buffer.concat([Buffer.from([0x1a, name.length]), name]);
    const cases: [string, Buffer][] = [
      ['whole', whole],
      [
        'extended by a name',
        Buffer.concat([whole.subarray(0, end), field3(Buffer.from('more')), whole.subarray(end)]),
      ],
      [
        'extended by a name that is not UTF-8',
        Buffer.concat([whole.subarray(0, end), field3(Buffer.from([0xc3, 0x28])), whole.subarray(end)]),
      ],
      [
        'extended by a name under a two-byte tag',
        Buffer.concat([
          whole.subarray(0, end),
          Buffer.from([0x9a, 0x00, 3]),
          Buffer.from('two'),
          whole.subarray(end),
        ]),
      ],
      ['cut inside the run', whole.subarray(0, end - 5)],
      ['cut right after the run', whole.subarray(0, end)],
      ['one byte of a name changed', Buffer.from(whole).fill(0x41, run + 10, run + 11)],
      ['a length inside the run changed', Buffer.from(whole).fill(0x7f, run + 1, run + 2)],
      [
        'the run twice, with a field between',
        Buffer.concat([whole.subarray(0, end), whole.subarray(0, end)]),
      ],
    ];
    for (const [label, bytes] of cases) {
      agree(bytes, label);
      agree(Buffer.from(bytes), `${label}, again`);
    }
  });
});

describe('checks of a repeated run of names (L2, L5)', () => {
  let h: Harness;
  before(async () => {
    const snapshot = Snapshot.create(names.map((name, i) => assignment(name, 9000 + i)));
    h = await start({ limits: { maxNamesPerRequest: 20 } }, {}, snapshot);
  });
  after(async () => {
    await h.close();
  });

  it('L5, L2: every stream that repeats a refused run is refused, and one that repeats an accepted run is served', async () => {
    const bad = names.map((name, i) => (i === 11 ? `${name}\u0007` : name));
    for (let i = 0; i < 3; i++) {
      const client = h.client();
      client.subscribe(Endpoint, bad);
      const end = await client.ended(Endpoint);
      assert.equal(end.code, status.INVALID_ARGUMENT, `stream ${i}`);
      assert.ok(end.details.includes('resource_names[11] holds the control character U+0007'), end.details);
    }
    const over = [...names, 'one-too-many'];
    for (let i = 0; i < 3; i++) {
      const client = h.client();
      client.subscribe(Endpoint, over);
      const end = await client.ended(Endpoint);
      assert.equal(end.code, status.RESOURCE_EXHAUSTED, `stream ${i}`);
    }
    for (let i = 0; i < 3; i++) {
      const client = h.client();
      client.subscribe(Endpoint, names);
      assert.equal((await client.next(Endpoint)).names.length, names.length, `stream ${i}`);
    }
  });
});
