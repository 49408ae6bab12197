// Rule L2 for the connection gate itself (connection-gate.ts): how peers are keyed, the default caps and their
// relation to the open-file limit, and how refusals are logged. The end-to-end limits are in
// connection-limits.test.ts.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server as NetServer } from 'node:net';
import { describe, it } from 'node:test';
import { SnapshotCache } from '@xds/cache';
import {
  ConnectionGate,
  defaultConnectionCap,
  defaultPerPeerCap,
  gateLimits,
  openFilesLimit,
  peerKey,
  reservedDescriptors,
} from './connection-gate.js';
import { defaultLimits } from './limits.js';
import { flood, idleHeld, patience, type RawSocket, recordingLogger } from './test-connections.js';
import { until } from './test-raw-client.js';
import { XdsServer } from './xds-server.js';

describe('ConnectionGate', () => {
  it('L2: peers are keyed by address, an IPv4-mapped IPv6 address as its IPv4 form', () => {
    assert.equal(peerKey('::ffff:10.1.2.3'), '10.1.2.3');
    assert.equal(peerKey('10.1.2.3'), '10.1.2.3');
    assert.equal(peerKey(undefined), undefined);
  });

  it('L2: an IPv6 peer is keyed by its /64, which one host holds whole (probe finding Q2)', () => {
    assert.equal(peerKey('2001:db8:0:1::5'), '2001:db8:0:1::/64');
    assert.equal(peerKey('2001:DB8:0:1:aaaa:bbbb:cccc:dddd'), '2001:db8:0:1::/64');
    assert.equal(peerKey('2001:0db8:0000:0001:ffff::1%eth0'), '2001:db8:0:1::/64');
    assert.equal(peerKey('::1'), '0:0:0:0::/64');
    assert.equal(peerKey('fe80::1:2:3:4'), 'fe80:0:0:0::/64');
    assert.equal(peerKey('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/64');
    assert.notEqual(peerKey('2001:db8:0:1::5'), peerKey('2001:db8:0:2::5'));
  });

  it('L2: maxConnectionsPerPeer defaults to 1,024, or a quarter of maxConnections when that is smaller', () => {
    assert.equal(defaultLimits.maxConnectionsPerPeer, 1_024);
    assert.ok(defaultLimits.maxConnections >= 10_000);
    assert.equal(defaultPerPeerCap(1_024, 50_000), 1_024);
    assert.equal(defaultPerPeerCap(1_024, 1_076), 269);
    assert.equal(defaultPerPeerCap(1_024, 3), 1);
    const resolved = { ...defaultLimits, maxConnections: 8 };
    assert.equal(gateLimits({ maxConnections: 8 }, resolved, undefined).maxConnectionsPerPeer, 2);
    const set = { ...resolved, maxConnectionsPerPeer: 8 };
    assert.equal(
      gateLimits({ maxConnections: 8, maxConnectionsPerPeer: 8 }, set, undefined).maxConnectionsPerPeer,
      8,
    );
  });

  it('L2: unset, the connection cap stays below the open-file limit; set, it is taken as given', () => {
    assert.equal(defaultConnectionCap(50_000, undefined), 50_000);
    assert.equal(defaultConnectionCap(50_000, 1_048_576), 50_000);
    assert.equal(defaultConnectionCap(50_000, 20_000), 20_000 - reservedDescriptors);
    assert.equal(defaultConnectionCap(50_000, 1_024), 512);
    const cache = new SnapshotCache();
    const files = openFilesLimit();
    const unset = new XdsServer({ cache });
    assert.equal(unset.maxConnections, defaultConnectionCap(defaultLimits.maxConnections, files));
    if (files !== undefined) assert.ok(unset.maxConnections < files);
    assert.equal(new XdsServer({ cache, limits: { maxConnections: 123_456 } }).maxConnections, 123_456);
    cache.close();
  });

  it('L2: listen warns when limits.maxConnections is not below the open-file limit', async (t) => {
    const files = openFilesLimit();
    if (files === undefined) {
      t.diagnostic('no /proc/self/limits here: nothing to compare with');
      return;
    }
    const logger = recordingLogger();
    const cache = new SnapshotCache();
    const server = new XdsServer({ cache, logger, limits: { maxConnections: files } });
    try {
      await server.listen('127.0.0.1:0');
      const line = logger.warnings.find((w) => /open-file limit/.test(w.message));
      assert.ok(line, 'warned');
      assert.match(line.message, new RegExp(`limits\\.maxConnections \\(${files}\\)`));
    } finally {
      await server.close();
      cache.close();
    }
  });

  it('L2: refusals are logged once per limit per interval, with the count since the previous line', async () => {
    const logger = recordingLogger();
    const gate = new ConnectionGate(
      {
        maxConnections: 1,
        maxConnectionsPerPeer: 1,
        connectionSetupTimeoutMs: idleHeld,
        maxConnectionIdleMs: idleHeld,
      },
      logger,
    );
    const server: NetServer = createServer();
    gate.gate(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    let sockets: RawSocket[] = [];
    try {
      sockets = await flood(port, 8);
      await until(() => sockets.filter((s) => s.closed).length === 7, 'seven refused', patience);
      assert.deepEqual(gate.stats(), {
        open: 1,
        peers: 1,
        idle: 0,
        evicted: 0,
        refused: { maxConnections: 7 },
        errors: { byCode: {}, recent: [] },
      });
      // Seven refusals in far less than the interval make few lines (one, unless the machine stalled 10 s).
      assert.ok(logger.warnings.length >= 1 && logger.warnings.length < 7, `${logger.warnings.length} lines`);
      assert.deepEqual(
        { ...(logger.warnings[0]!.object as object) },
        {
          peer: '127.0.0.1',
          limit: 'maxConnections',
          max: 1,
          open: 1,
          fromPeer: 1,
          refusedSincePreviousLine: 1,
        },
      );
    } finally {
      for (const s of sockets) s.socket.destroy();
      server.close();
    }
  });
});
