// Compressed request messages are refused before grpc-js inflates them (request-compression.ts; rule L2, probe
// finding Q12: 15 KB of gzip inflated to 15 MiB per request, past every byte bound). Raw HTTP/2 streams against a
// real server: grpc-js's client compresses only when told to, and sends what it compresses correctly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { TypeUrl } from '@xds/api';
import { start } from './test-harness.js';
import { grpcFrame, methodPathOf, RawConnection, RawStream, sotwRequest } from './test-raw-client.js';

/** A stream that announces `grpc-encoding: gzip`. */
function gzipStream(connection: RawConnection): RawStream {
  return new RawStream(
    connection.session.request({
      ':method': 'POST',
      ':path': methodPathOf('sotw'),
      'content-type': 'application/grpc',
      'grpc-encoding': 'gzip',
      te: 'trailers',
    }),
  );
}

describe('compressed requests (rule L2)', { timeout: 120_000 }, () => {
  it('L2: a request message sent compressed ends its call with UNIMPLEMENTED before it is inflated; an uncompressed one on a gzip call is served', async () => {
    const h = await start();
    const connection = new RawConnection(Number(h.address.split(':')[1]));
    try {
      // 15 MiB of one byte, about 15 KB of gzip: the probe's bomb. Inflated, it would be a request without node
      // (INVALID_ARGUMENT); refused first, it is UNIMPLEMENTED naming the encoding.
      const inflated = sotwRequest({ typeUrl: 'A'.repeat(15 * 1024 * 1024) }).subarray(5);
      const compressed = gzipSync(inflated);
      assert.ok(compressed.length < 100_000, `${compressed.length} bytes of gzip`);
      const frame = grpcFrame(compressed);
      frame[0] = 1;
      const bomb = gzipStream(connection);
      bomb.write(frame);
      const end = await bomb.end(60_000);
      assert.equal(end.grpcStatus, 12, `status ${end.grpcStatus}: ${end.grpcMessage}`);
      assert.match(
        end.grpcMessage ?? '',
        /compressed request messages \(grpc-encoding "gzip"\) are not accepted/,
      );

      // The compressed flag decides, not the header: an uncompressed message on the same kind of call is served.
      const plain = gzipStream(connection);
      plain.send({ node: { id: 'n1' }, typeUrl: TypeUrl.Cluster });
      const deadline = Date.now() + 60_000;
      while (plain.responses.length === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
      assert.equal(plain.responses[0]?.resources.length, 2);
      plain.cancel();
    } finally {
      connection.close();
      await h.close();
    }
  });
});
