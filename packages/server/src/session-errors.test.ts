// Connections Node ends on an error (session-errors.ts) are counted, kept and logged: before, grpc-js swallowed
// the error and every stream on the connection ended without a status and without a sign on the server (fuzz
// finding 7). The trigger here is a peer that speaks HTTP/1.1 to the xDS port: nghttp2 refuses its preface and Node
// ends the session with ERR_HTTP2_ERROR and GOAWAY(INTERNAL_ERROR), the same path as any nghttp2 error.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttp2Server } from 'node:http2';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { Snapshot } from '@xds/cache';
import { keptSessionErrors, SessionErrors } from './session-errors.js';
import { patience, recordingLogger } from './test-connections.js';
import { cluster, start } from './test-harness.js';
import { until } from './test-raw-client.js';

/** Connects from `localAddress`, writes an HTTP/1.1 request instead of the HTTP/2 preface, waits for the close. */
async function speakHttp1(port: number, localAddress = '127.0.0.1'): Promise<Buffer> {
  const socket = connect({ host: '127.0.0.1', port, localAddress });
  socket.on('error', () => {});
  const received: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  await once(socket, 'connect');
  socket.write('GET / HTTP/1.1\r\nHost: xds\r\n\r\n');
  await once(socket, 'close');
  return Buffer.concat(received);
}

/** The error code of the last GOAWAY frame in `bytes` (frames as a server sends them), or undefined. */
function goawayCode(bytes: Buffer): number | undefined {
  let code: number | undefined;
  for (let at = 0; at + 9 <= bytes.length; ) {
    const length = bytes.readUIntBE(at, 3);
    if (bytes[at + 3] === 0x7 && at + 9 + 8 <= bytes.length) code = bytes.readUInt32BE(at + 9 + 4);
    at += 9 + length;
  }
  return code;
}

describe('session errors (rules L2, L4)', { timeout: 300_000 }, () => {
  it('L4: a connection Node ends on an error is counted by code, kept with its peer and logged; a bystander is served', async () => {
    const logger = recordingLogger();
    const h = await start({ logger });
    try {
      const bystander = h.client();
      bystander.subscribe(TypeUrl.Cluster, []);
      await bystander.next(TypeUrl.Cluster);
      const port = Number(h.address.split(':')[1]);

      const bytes = await speakHttp1(port, '127.0.0.2');
      assert.equal(goawayCode(bytes), 2, 'the server sent GOAWAY(INTERNAL_ERROR)');
      await until(() => h.server.connectionStats().errors.byCode.ERR_HTTP2_ERROR === 1, 'counted', patience);
      const [record] = h.server.connectionStats().errors.recent;
      assert.equal(record?.peer, '127.0.0.2');
      assert.equal(record?.code, 'ERR_HTTP2_ERROR');
      assert.match(record?.message ?? '', /client magic/);
      const line = logger.warnings.find((w) => /HTTP\/2 connection ended by an error/.test(w.message));
      assert.ok(line, 'logged');
      assert.match(line.message, /client magic/);
      assert.deepEqual(
        { ...(line.object as object) },
        { peer: '127.0.0.2', code: 'ERR_HTTP2_ERROR', errorsSincePreviousLine: 1 },
      );

      h.cache.setSnapshot('n1', Snapshot.create([cluster('after-error')]));
      const pushed = await bystander.next(TypeUrl.Cluster);
      assert.deepEqual(pushed.names, ['after-error']);
    } finally {
      await h.close();
    }
  });

  it(`L2: the latest ${keptSessionErrors} errors are kept, and one line per code per interval is logged`, async () => {
    const logger = recordingLogger();
    const errors = new SessionErrors(logger);
    const server = createHttp2Server();
    server.on('session', (session) => errors.watch(session));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    try {
      const total = keptSessionErrors + 3;
      for (let i = 0; i < total; i++) await speakHttp1(port);
      await until(() => errors.stats().byCode.ERR_HTTP2_ERROR === total, 'every error counted', patience);
      assert.equal(errors.stats().recent.length, keptSessionErrors);
      // Eleven errors in far less than the interval make few lines (one, unless the machine stalled 10 s).
      assert.ok(
        logger.warnings.length >= 1 && logger.warnings.length < total,
        `${logger.warnings.length} lines`,
      );
    } finally {
      server.close();
    }
  });
});
