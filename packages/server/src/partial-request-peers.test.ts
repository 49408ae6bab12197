// Rule L2, probe5 P3's remainder: the partial-request budget has a share per peer address
// (`limits.maxPartialRequestBytesPerPeer`), so that one peer's unfinished messages cannot refuse another peer's
// request. Each unfinished message reserves at least 16 KiB ahead of its bytes, so a peer that sends gRPC headers
// and nothing more, on enough streams and connections, held the whole share of big messages for
// `partialRequestTimeoutMs` at a time, and every other peer's request over 64 KiB was refused. On loopback,
// 127.0.0.2 and 127.0.0.3 are distinct peers (the connection gate's key).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { TypeUrl } from '@xds/api';
import { defaultLimits } from './limits.js';
import { bigShareOf } from './partial-request-budget.js';
import { coalesceBytes } from './partial-requests.js';
import { type Harness, start } from './test-harness.js';
import { RawConnection, type RawEnd, type RawStream, sotwRequest, until } from './test-raw-client.js';

const { Cluster } = TypeUrl;
const kib = 1024;
const mib = 1024 * kib;
const wait = 60_000;

function portOf(h: Harness): number {
  return Number(h.address.split(':')[1]);
}

/** Opens a stream on `connection` that sends a gRPC header announcing `length` bytes and nothing more. */
function headerOnly(connection: RawConnection, length: number): RawStream {
  const stream = connection.open();
  const head = Buffer.alloc(5);
  head.writeUInt32BE(length, 1);
  stream.write(head);
  return stream;
}

/** A valid SotW request of node `node` for Cluster c1 and 2,000 more names: about 110 KB, over the small size. */
function bigRequest(node: string): Buffer {
  const names = [
    'c1',
    ...Array.from({ length: 2000 }, (_, i) => `outbound|9080|v${i}|reviews.default.svc.cluster.local`),
  ];
  return sotwRequest({ node: { id: node }, typeUrl: Cluster, resourceNames: names });
}

describe('partly received requests: a share per peer address (L2)', () => {
  it('L2: the defaults are 256 MiB for the server, 64 MiB per peer and 32 MiB per connection; a peer’s share and one maxRequestBytes message fit in the big share', () => {
    const d = defaultLimits;
    assert.equal(d.maxPartialRequestBytesTotal, 256 * mib);
    assert.equal(d.maxPartialRequestBytesPerPeer, 64 * mib);
    assert.equal(d.maxPartialRequestBytesPerConnection, 32 * mib);
    assert.ok(d.maxPartialRequestBytesPerConnection >= 2 * d.maxRequestBytes);
    assert.ok(d.maxPartialRequestBytesPerPeer >= d.maxRequestBytes);
    // One peer at its share leaves room in the big share for another peer's largest message, twice over.
    assert.ok(
      d.maxPartialRequestBytesPerPeer + 2 * d.maxRequestBytes <= bigShareOf(d.maxPartialRequestBytesTotal),
    );
  });

  it('L2: one peer’s header-only streams across two connections hold at most limits.maxPartialRequestBytesPerPeer (the rest end RESOURCE_EXHAUSTED naming it and the peer); another peer’s 110 KB request split across writes is admitted and served (probe5 P3)', async () => {
    // The big share is 1.5 MiB: 96 header-only messages of 16 KiB. One peer may hold two thirds of it, more than one connection holds.
    const limits = { maxPartialRequestBytesTotal: 2 * mib, maxPartialRequestBytesPerPeer: mib };
    const h = await start({ limits });
    const hostile = [0, 1].map(() => new RawConnection(portOf(h), { localAddress: '127.0.0.2' }));
    const bystander = new RawConnection(portOf(h), { localAddress: '127.0.0.3' });
    try {
      const announced = 1_000_000;
      const headers = bigShareOf(limits.maxPartialRequestBytesTotal) / coalesceBytes;
      assert.equal(headers, 96);
      const ends: RawEnd[] = [];
      for (const connection of hostile) {
        for (let i = 0; i < headers / 2; i++)
          void headerOnly(connection, announced).ended.then((e) => ends.push(e));
      }
      const allowed = limits.maxPartialRequestBytesPerPeer / coalesceBytes;
      await until(
        () => h.server.partialRequestStats().messages + ends.length === headers,
        'every header-only message held or refused',
        wait,
      );
      // Another peer's honest request over 64 KiB, in two writes: unfinished between them.
      const frame = bigRequest('n1');
      assert.ok(frame.length > 100_000);
      const stream = bystander.open();
      let ended = false;
      void stream.ended.then(() => {
        ended = true;
      });
      stream.write(frame.subarray(0, 50_000));
      await until(
        () => ended || h.server.partialRequestStats().peers === 2,
        'the other peer’s request held or refused',
        wait,
      );
      assert.equal(ended, false, 'the other peer’s request was not refused');
      stream.write(frame.subarray(50_000));
      await until(() => stream.responses.length === 1 || ended, 'the other peer’s response', wait);
      assert.equal(stream.responses[0]?.typeUrl, Cluster);

      // Meanwhile the peer held its share and no more.
      const stats = h.server.partialRequestStats();
      assert.equal(stats.messages, allowed, 'the peer holds its share and no more');
      assert.equal(stats.reservedBytes, limits.maxPartialRequestBytesPerPeer);
      assert.equal(stats.peers, 1);
      assert.equal(stats.connections, 2);
      assert.equal(stats.perPeerLimitBytes, mib);
      assert.equal(stats.refused.maxPartialRequestBytesPerPeer, headers - allowed);
      assert.equal(stats.refused.maxPartialRequestBytesTotal, 0);
      assert.equal(h.server.streamStats().endedByLimit.maxPartialRequestBytesPerPeer, headers - allowed);
      for (const end of ends) {
        assert.equal(end.grpcStatus, status.RESOURCE_EXHAUSTED);
        assert.match(
          end.grpcMessage ?? '',
          /from peer 127\.0\.0\.2 would pass limits\.maxPartialRequestBytesPerPeer \(1048576 bytes\)/,
        );
      }

      // The peer's share is given back with its connections.
      for (const connection of hostile) connection.close();
      await until(
        () => h.server.partialRequestStats().reservedBytes === 0,
        'the peer’s share given back',
        wait,
      );
      assert.equal(h.server.partialRequestStats().peers, 0);
    } finally {
      for (const c of [...hostile, bystander]) c.close();
      await h.close();
    }
  });
});
