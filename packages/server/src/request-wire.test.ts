// Rule L2: the wire pass (request-wire.ts) bounds what a request costs before protobuf-es decodes it, over a real
// grpc-js server: error_detail.details and unknown fields are never decoded, and a request of too many names is
// refused by count before any of it is decoded.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { status } from '@grpc/grpc-js';
import { type DeltaDiscoveryRequest, type DiscoveryRequest, TypeUrl } from '@xds/api';
import { type Harness, start } from './test-harness.js';
import { grpcFrame, methodPathOf, RawConnection, until } from './test-raw-client.js';

function field(tag: number, body: Uint8Array): Buffer {
  const head = new BinaryWriter().uint32(tag).uint32(body.length).finish();
  return Buffer.concat([head, body]);
}

/** `Status { code = 5, message = 'nack', details = count empty Any }`. */
function statusWithDetails(count: number): Buffer {
  const details = Buffer.alloc(count * 2);
  for (let i = 0; i < count; i++) details[i * 2] = 0x1a;
  return Buffer.concat([Buffer.from([0x08, 0x05]), field(18, Buffer.from('nack')), details]);
}

describe('L2: request wire pass over gRPC', () => {
  const harnesses: Harness[] = [];
  after(async () => {
    await Promise.all(harnesses.map((h) => h.close()));
  });

  it('L2: error_detail.details and unknown fields are never decoded (SotW and delta)', async () => {
    const seen: (DiscoveryRequest | DeltaDiscoveryRequest)[] = [];
    const h = await start({ hooks: { onRequest: (request) => void seen.push(request) } });
    harnesses.push(h);
    const connection = new RawConnection(Number(h.address.split(':')[1]));
    try {
      const count = 10_000;
      // An unknown varint field (99) among the fields.
      const unknown = Buffer.from([0x98, 0x06, 0x01]);
      const sotw = Buffer.concat([
        field(18, field(10, Buffer.from('n1'))),
        field(34, Buffer.from(TypeUrl.Cluster)),
        unknown,
        field(50, statusWithDetails(count)),
      ]);
      const delta = Buffer.concat([
        field(10, field(10, Buffer.from('n1'))),
        field(18, Buffer.from(TypeUrl.Cluster)),
        unknown,
        field(58, statusWithDetails(count)),
      ]);
      const streams = [
        [methodPathOf('sotw'), sotw],
        [methodPathOf('delta'), delta],
      ] as const;
      for (const [path, bytes] of streams) connection.open(path).write(grpcFrame(bytes));
      await until(() => seen.length === 2, 'both requests reach onRequest', 20_000);
      for (const request of seen) {
        const detail = request.errorDetail;
        assert.ok(detail !== undefined);
        assert.equal(detail.code, 5);
        assert.equal(detail.message, 'nack');
        // Before the wire pass, protobuf-es made 10,000 Any objects here.
        assert.equal(detail.details.length, 0);
        assert.equal((request as { $unknown?: unknown[] }).$unknown?.length ?? 0, 0);
        assert.equal(request.node?.id, 'n1');
      }
    } finally {
      connection.close();
    }
  });

  it('L2: too many names are refused by count, before a name is decoded', async () => {
    const h = await start({ limits: { maxNamesPerRequest: 10 } });
    harnesses.push(h);
    const connection = new RawConnection(Number(h.address.split(':')[1]));
    try {
      // 11 names, the last not UTF-8: protobuf-es would refuse it as not parsing; the count comes first.
      const names = Array.from({ length: 10 }, (_, i) => field(26, Buffer.from(`c${i}`)));
      const bad = field(26, Buffer.from([0xc3, 0x28]));
      const sotw = Buffer.concat([field(18, field(10, Buffer.from('n1'))), ...names, bad]);
      const delta = Buffer.concat([field(10, field(10, Buffer.from('n1'))), ...names, bad]);
      for (const [path, bytes, what] of [
        [
          methodPathOf('sotw'),
          sotw,
          /resource_names has 11 names, more than limits\.maxNamesPerRequest \(10\)/,
        ],
        [
          methodPathOf('delta'),
          delta,
          /resource_names_subscribe \+ resource_names_unsubscribe has 11 names, more than limits\.maxNamesPerRequest \(10\)/,
        ],
      ] as const) {
        const stream = connection.open(path);
        stream.write(grpcFrame(bytes));
        stream.stream.end();
        const end = await stream.end(20_000);
        assert.equal(end.grpcStatus, status.RESOURCE_EXHAUSTED, path);
        assert.match(end.grpcMessage ?? '', what);
      }
      // The server serves on.
      const other = h.client();
      other.subscribe(TypeUrl.Cluster, []);
      assert.deepEqual((await other.next(TypeUrl.Cluster)).names, ['c1', 'c2']);
    } finally {
      connection.close();
    }
  });
});
