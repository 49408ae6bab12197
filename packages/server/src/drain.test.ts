// XdsServer.close() (the SIGTERM drain): every stream, pending ones included, ends with UNAVAILABLE "server is
// closing", and nothing is admitted once the drain started.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Client, credentials, status } from '@grpc/grpc-js';
import { TypeUrl } from '@xds/api';
import { start } from './test-harness.js';
import { methodPathOf, RawConnection, until, within } from './test-raw-client.js';

const { Cluster } = TypeUrl;
const portOf = (address: string) => Number(address.split(':')[1]);

describe('close() drains every stream (rule L2)', () => {
  it('L2: a header-only stream pending when the drain starts ends with UNAVAILABLE "server is closing", not a reset', async () => {
    const h = await start({ closeGraceMs: 3000 });
    const connection = new RawConnection(portOf(h.address));
    try {
      const pending = connection.open(methodPathOf('sotw'));
      const client = h.client();
      client.subscribe(Cluster, []);
      await client.next(Cluster);
      await until(() => h.server.pendingStreams === 1, 'the pending stream');
      const closed = h.server.close();
      const end = await pending.end();
      assert.equal(end.grpcStatus, status.UNAVAILABLE);
      assert.equal(end.grpcMessage, 'server is closing');
      assert.equal(end.rstCode, 0);
      const real = await within(client.ended(), 'the open stream to end');
      assert.equal(real.code, status.UNAVAILABLE);
      assert.equal(real.details, 'server is closing');
      assert.equal(h.server.pendingStreams, 0);
      await closed;
    } finally {
      connection.close();
      await h.close();
    }
  });

  it('L2: a first request that arrives during the drain is refused with UNAVAILABLE, never admitted', async () => {
    const h = await start({ closeGraceMs: 3000 });
    const connection = new RawConnection(portOf(h.address));
    const opened: number[] = [];
    h.server.on('streamOpen', (e) => opened.push(e.streamId));
    try {
      const late = connection.open(methodPathOf('sotw'));
      await until(() => h.server.pendingStreams === 1, 'the pending stream');
      const closed = h.server.close();
      late.send({ node: { id: 'n1' }, typeUrl: Cluster });
      const end = await late.end();
      assert.equal(end.grpcStatus, status.UNAVAILABLE);
      assert.equal(end.grpcMessage, 'server is closing');
      assert.deepEqual(late.responses, [], 'no response');
      assert.deepEqual(opened, [], 'no stream was admitted');
      assert.equal(h.server.streamCount, 0);
      await closed;
    } finally {
      connection.close();
      await h.close();
    }
  });

  it('L2: a grpc-js call that sent no request yet ends with UNAVAILABLE "server is closing"', async () => {
    const h = await start({ closeGraceMs: 3000 });
    const grpc = new Client(h.address, credentials.createInsecure());
    try {
      const call = grpc.makeBidiStreamRequest(
        methodPathOf('delta'),
        (b: Buffer) => b,
        (b: Buffer) => b,
      );
      const ended = new Promise<{ code: number; details: string }>((resolve) => {
        call.on('error', (error: { code: number; details: string }) => resolve(error));
        call.on('data', () => {});
      });
      await until(() => h.server.pendingStreams === 1, 'the call to reach the server');
      const closed = h.server.close();
      const end = await within(ended, 'the call to end');
      assert.equal(end.code, status.UNAVAILABLE);
      assert.equal(end.details, 'server is closing');
      await closed;
    } finally {
      grpc.close();
      await h.close();
    }
  });
});
