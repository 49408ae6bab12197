// Rule L2: the bytes of one request are bounded by `limits.maxRequestBytes` (default 16 MiB), not by
// `maxMessageBytes` (64 MiB, what responses may take): a client that announces a larger message is refused on its
// length, before the server holds any of it, so unfinished messages pin at most streams × maxRequestBytes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { TypeUrl } from '@xds/api';
import { defaultLimits, resolveLimits } from './limits.js';
import { grpcServerOptions } from './options.js';
import { start } from './test-harness.js';
import { methodPathOf, RawConnection, sotwRequest, until, within } from './test-raw-client.js';

const { Cluster } = TypeUrl;
const mib = 1024 * 1024;

/** The 5-byte gRPC frame header of a message of `length` bytes, and none of its bytes. */
function headerOnly(length: number): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(length, 1);
  return header;
}

describe('request size (L2)', () => {
  it('L2: the default limits.maxRequestBytes is 16 MiB and caps grpc-js’s receive length, below maxMessageBytes', () => {
    assert.equal(defaultLimits.maxRequestBytes, 16 * mib);
    const options = grpcServerOptions({} as never, resolveLimits(undefined));
    assert.equal(options['grpc.max_receive_message_length'], 16 * mib);
    assert.equal(options['grpc.max_send_message_length'], 64 * mib);
    const small = grpcServerOptions({ maxMessageBytes: 4096 } as never, resolveLimits(undefined));
    assert.equal(small['grpc.max_receive_message_length'], 4096);
  });

  it('L2: a message announced over the default limit ends its stream with RESOURCE_EXHAUSTED on its length alone; a bystander on the same connection is served', async () => {
    const h = await start();
    const connection = new RawConnection(Number(h.address.split(':')[1]));
    try {
      const bystander = connection.open(methodPathOf('sotw'));
      const hostile = connection.open(methodPathOf('sotw'));
      // Only the length goes out: the server must refuse without waiting for (or holding) any byte of the message.
      hostile.write(headerOnly(defaultLimits.maxRequestBytes + 1));
      const end = await within(hostile.ended, 'the over-large stream to end', 30_000);
      assert.equal(end.grpcStatus, status.RESOURCE_EXHAUSTED);
      assert.match(
        end.grpcMessage ?? '',
        new RegExp(`${defaultLimits.maxRequestBytes + 1} vs\\.? ${defaultLimits.maxRequestBytes}`),
      );
      bystander.write(sotwRequest({ node: { id: 'n1' }, typeUrl: Cluster }));
      await until(() => bystander.responses.length > 0, 'the bystander’s response', 30_000);
      assert.equal(bystander.responses[0]!.typeUrl, Cluster);
    } finally {
      connection.close();
      await h.close();
    }
  });

  it('L2: a configured limits.maxRequestBytes refuses a larger request from a real client, not a smaller one', async () => {
    const h = await start({ limits: { maxRequestBytes: 4096 } });
    try {
      const fine = h.client();
      fine.subscribe(
        Cluster,
        Array.from({ length: 50 }, (_, i) => `c${i}`),
      );
      await fine.next(Cluster);
      const big = h.client();
      big.subscribe(
        Cluster,
        Array.from({ length: 500 }, (_, i) => `name-${i}-${'x'.repeat(20)}`),
      );
      const end = await big.ended();
      assert.equal(end.code, status.RESOURCE_EXHAUSTED);
      assert.match(end.details, /vs\.? 4096/);
    } finally {
      await h.close();
    }
  });
});
