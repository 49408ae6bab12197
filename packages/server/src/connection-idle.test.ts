// Rule L2 for connections that have opened a stream and then hold their slot with nothing open (probe finding Q2):
// `limits.maxConnectionIdleMs` closes them, and when `maxConnections` is reached a new connection takes the slot of
// the one idle the longest. Before, one stream to any path ended the set-up bound, keepalive never ended a peer
// that answers pings, and a few addresses held every slot while every new xDS client got UNAVAILABLE.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type ClientHttp2Session, connect as http2Connect } from 'node:http2';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { Snapshot } from '@xds/cache';
import { idleHeld, patience, recordingLogger } from './test-connections.js';
import { cluster, start } from './test-harness.js';
import { until } from './test-raw-client.js';

const { Cluster } = TypeUrl;

/** An HTTP/2 connection from `localAddress` that opens one gRPC stream to a method nobody serves, then idles. */
async function oneStreamThenIdle(port: number, localAddress: string): Promise<ClientHttp2Session> {
  const session = http2Connect(`http://127.0.0.1:${port}`, {
    createConnection: () => connect({ host: '127.0.0.1', port, localAddress }),
  });
  session.on('error', () => {});
  const stream = session.request({
    ':method': 'POST',
    ':path': '/nobody.Serves/This',
    'content-type': 'application/grpc',
    te: 'trailers',
  });
  stream.on('error', () => {});
  stream.end();
  stream.resume();
  await once(stream, 'close');
  return session;
}

describe('idle connections (rule L2)', { timeout: 300_000 }, () => {
  it('L2: maxConnectionIdleMs: a connection with no stream open is closed and counted; one holding a stream is not', async () => {
    const logger = recordingLogger();
    const h = await start({
      logger,
      limits: { maxConnectionIdleMs: 2_000, connectionSetupTimeoutMs: idleHeld },
    });
    const port = Number(h.address.split(':')[1]);
    const sessions: ClientHttp2Session[] = [];
    try {
      const client = h.client();
      client.subscribe(Cluster, []);
      assert.deepEqual((await client.next(Cluster)).names, ['c1', 'c2']);
      const idle = await oneStreamThenIdle(port, '127.0.0.2');
      sessions.push(idle);
      await until(() => idle.closed || idle.destroyed, 'the idle connection closed', patience);
      assert.deepEqual(h.server.connectionStats().refused, { maxConnectionIdleMs: 1 });
      const line = logger.warnings.find((w) => /maxConnectionIdleMs/.test(w.message));
      assert.ok(line, 'the close is logged');
      assert.equal((line.object as { peer: string }).peer, '127.0.0.2');
      // The client's connection, with its ADS stream open, is older than the bound and still served.
      h.cache.setSnapshot('n1', Snapshot.create([cluster('c1'), cluster('c3')]));
      assert.deepEqual((await client.next(Cluster)).names, ['c1', 'c3']);
      assert.equal(h.server.connectionStats().open, 1);
      assert.equal(h.server.connectionStats().refused.maxConnectionIdleMs, 1);
    } finally {
      for (const s of sessions) s.destroy();
      await h.close();
    }
  });

  it('L2: when maxConnections is reached, a new client takes the slot of the connection idle the longest', async () => {
    const logger = recordingLogger();
    const h = await start({
      logger,
      limits: { maxConnections: 3, maxConnectionsPerPeer: 3, connectionSetupTimeoutMs: idleHeld },
    });
    const port = Number(h.address.split(':')[1]);
    const sessions: ClientHttp2Session[] = [];
    try {
      for (let i = 0; i < 3; i++) sessions.push(await oneStreamThenIdle(port, '127.0.0.2'));
      await until(() => h.server.connectionStats().idle === 3, 'three idle connections', patience);
      const [oldest] = sessions;
      const client = h.client();
      client.subscribe(Cluster, []);
      assert.deepEqual((await client.next(Cluster)).names, ['c1', 'c2']);
      await until(() => oldest!.closed || oldest!.destroyed, 'the oldest idle connection closed', patience);
      assert.equal(sessions[1]!.destroyed, false, 'only the oldest made room');
      const stats = h.server.connectionStats();
      assert.equal(stats.evicted, 1);
      assert.equal(stats.open, 3);
      assert.deepEqual(stats.refused, {});
      assert.ok(logger.warnings.some((w) => /the connection idle the longest was closed/.test(w.message)));
    } finally {
      for (const s of sessions) s.destroy();
      await h.close();
    }
  });
});
