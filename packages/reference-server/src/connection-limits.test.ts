// Rule L2 for connections in `xds-server`: `--limit maxConnectionsPerPeer=N` reaches the xDS listener, and the
// refusals show in /metrics, /debug/syncz, the status page and the log (with the peer).
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { XdsTestClient } from '@xds/testing';
import { parseCommandLine } from './cli.js';
import { createLogger } from './logger.js';
import { startReferenceServer } from './reference-server.js';
import { get, getJson, memoryLog, poll } from './test-support.js';

describe('xds-server connection limits', { timeout: 180_000 }, () => {
  it('L2: --limit maxConnectionsPerPeer holds on the xDS port; refusals show in /metrics, /debug/syncz, the status page and the log', async () => {
    // The held sockets stay idle for the whole test: the set-up bound (15 s by default) is lifted for them.
    const parsed = parseCommandLine([
      '--limit',
      'maxConnectionsPerPeer=3',
      '--limit',
      'maxConnections=1000',
      '--limit',
      'connectionSetupTimeoutMs=3600000',
    ]);
    assert.equal(parsed.kind, 'run');
    if (parsed.kind !== 'run') return;
    assert.deepEqual(parsed.options.limits, {
      maxConnectionsPerPeer: 3,
      maxConnections: 1000,
      connectionSetupTimeoutMs: 3_600_000,
    });
    const log = memoryLog();
    const server = await startReferenceServer({
      xds: '127.0.0.1:0',
      admin: '127.0.0.1:0',
      logger: createLogger('info', log.stream),
      closeGraceMs: 1000,
      limits: parsed.options.limits,
    });
    const sockets: { socket: Socket; closed: boolean }[] = [];
    const port = Number(server.xdsAddress.split(':').at(-1));
    const client = new XdsTestClient({ address: server.xdsAddress, node: 'bystander', timeoutMs: 60_000 });
    try {
      for (let i = 0; i < 8; i++) {
        const entry = {
          socket: connect({ host: '127.0.0.1', port, localAddress: '127.0.0.3' }),
          closed: false,
        };
        entry.socket.on('error', () => {});
        entry.socket.on('close', () => {
          entry.closed = true;
        });
        sockets.push(entry);
      }
      await poll(
        'five refused',
        () => (sockets.filter((s) => s.closed).length === 5 ? true : undefined),
        60_000,
      );
      // Another address is served.
      client.subscribe(TypeUrl.Listener, []);
      await client.next(TypeUrl.Listener);

      const metrics = (await get(server.adminAddress, '/metrics')).body;
      assert.match(metrics, /^xds_server_connections_refused_total\{limit="maxConnectionsPerPeer"\} 5$/m);
      assert.match(metrics, /^xds_server_connections 4$/m);
      const syncz = await getJson<{ server: { connections: unknown } }>(server.adminAddress, '/debug/syncz');
      assert.deepEqual(syncz.server.connections, {
        open: 4,
        peers: 2,
        idle: 0,
        evicted: 0,
        refused: { maxConnectionsPerPeer: 5 },
        errors: { byCode: {}, recent: [] },
      });
      assert.match(metrics, /^# TYPE xds_server_connection_errors_total counter$/m);
      assert.match(metrics, /^xds_server_connections_idle 0$/m);
      assert.match(metrics, /^xds_server_connections_evicted_total 0$/m);
      const page = (await get(server.adminAddress, '/')).body;
      assert.match(
        page,
        /<span id="connections">4 connections · 5 refused \(maxConnectionsPerPeer 5\)<\/span>/,
      );
      const line = log.lines.find((l) =>
        /limits\.maxConnectionsPerPeer \(3\) reached/.test(String(l['msg'])),
      );
      assert.ok(line, 'the refusal is logged');
      assert.equal(line['peer'], '127.0.0.3');
    } finally {
      for (const s of sockets) s.socket.destroy();
      await client.close();
      await server.close();
    }
  });
});
