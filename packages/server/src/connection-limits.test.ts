// Rule L2 for connections (issue 10): `limits.maxConnections` and `limits.maxConnectionsPerPeer` bound the TCP
// connections the xDS listener holds. Past a limit a connection is closed as it is accepted, before TLS or HTTP/2
// work; the clients already connected are served; a connection that closes makes room for a new one.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { TypeUrl } from '@xds/api';
import { Snapshot, SnapshotCache } from '@xds/cache';
import {
  createTestPki,
  type TestCertificate,
  type TestPki,
  tlsCredentials,
  XdsTestClient,
} from '@xds/testing';
import type { Limits } from './limits.js';
import {
  flood,
  http2Outcome,
  idleHeld,
  patience,
  type RawSocket,
  recordingLogger,
} from './test-connections.js';
import { cluster, sample, start } from './test-harness.js';
import { until } from './test-raw-client.js';
import { XdsServer } from './xds-server.js';

const { Cluster } = TypeUrl;
/**
 * The set-up bound of the tests that prove it: long enough for a client on a loaded machine to open its stream,
 * short enough for a test.
 */
const setupBound = 10_000;

/** A snapshot whose clusters are `names`: setting it pushes a Cluster response to node n1's subscribers. */
function clusters(...names: string[]): Snapshot {
  return Snapshot.create(names.map((name) => cluster(name)));
}

describe('connection limits (rule L2)', { timeout: 300_000 }, () => {
  it('L2: maxConnectionsPerPeer: one peer is held to its share, a bystander connects and gets pushes, a freed connection lets a new one in', async () => {
    const logger = recordingLogger();
    const h = await start({
      logger,
      limits: { maxConnectionsPerPeer: 4, connectionSetupTimeoutMs: idleHeld },
    });
    const port = Number(h.address.split(':')[1]);
    let attacker: RawSocket[] = [];
    try {
      attacker = await flood(port, 10, '127.0.0.2');
      await until(() => attacker.filter((s) => s.closed).length === 6, 'six refused', patience);
      assert.deepEqual(h.server.connectionStats(), {
        open: 4,
        peers: 1,
        idle: 0,
        evicted: 0,
        refused: { maxConnectionsPerPeer: 6 },
        errors: { byCode: {}, recent: [] },
      });
      const line = logger.warnings.find((w) => /maxConnectionsPerPeer/.test(w.message));
      assert.ok(line, 'a refusal is logged');
      assert.match(line.message, /limits\.maxConnectionsPerPeer \(4\) reached/);
      assert.equal((line.object as { peer: string }).peer, '127.0.0.2');
      assert.ok(logger.warnings.length <= 6, 'at most one line per refusal');

      // Another peer is served, and pushed to.
      const bystander = h.client();
      bystander.subscribe(Cluster, []);
      assert.deepEqual((await bystander.next(Cluster)).names, ['c1', 'c2']);
      h.cache.setSnapshot('n1', clusters('c1', 'c3'));
      assert.deepEqual((await bystander.next(Cluster)).names, ['c1', 'c3']);
      assert.equal(h.server.connectionStats().peers, 2);

      // The peer is still refused, until one of its connections closes.
      assert.equal(await http2Outcome(port, '127.0.0.2'), 'refused');
      const held = attacker.filter((s) => !s.closed);
      held[0]!.socket.destroy();
      await until(() => h.server.connectionStats().open === 4, 'the freed connection counted out', patience);
      assert.equal(await http2Outcome(port, '127.0.0.2'), 'served');
      assert.equal(h.server.connectionStats().refused.maxConnectionsPerPeer, 7);
    } finally {
      for (const s of attacker) s.socket.destroy();
      await h.close();
    }
  });

  it('L2: maxConnections: past it connections are closed at accept; clients already connected are served; one freed lets one in', async () => {
    const h = await start({
      limits: { maxConnections: 5, maxConnectionsPerPeer: 5, connectionSetupTimeoutMs: idleHeld },
    });
    const port = Number(h.address.split(':')[1]);
    let flooded: RawSocket[] = [];
    try {
      const bystander = h.client();
      bystander.subscribe(Cluster, []);
      assert.deepEqual((await bystander.next(Cluster)).names, ['c1', 'c2']);

      flooded = await flood(port, 20);
      await until(() => flooded.filter((s) => s.closed).length === 16, 'sixteen refused', patience);
      assert.deepEqual(h.server.connectionStats(), {
        open: 5,
        peers: 1,
        idle: 0,
        evicted: 0,
        refused: { maxConnections: 16 },
        errors: { byCode: {}, recent: [] },
      });
      assert.equal(await http2Outcome(port), 'refused');

      // The client connected before the flood still gets pushes.
      h.cache.setSnapshot('n1', clusters('c1', 'c3'));
      assert.deepEqual((await bystander.next(Cluster)).names, ['c1', 'c3']);

      flooded.find((s) => !s.closed)!.socket.destroy();
      await until(() => h.server.connectionStats().open === 4, 'the freed connection counted out', patience);
      assert.equal(await http2Outcome(port), 'served');
      assert.equal(h.server.connectionStats().refused.maxConnections, 17);
    } finally {
      for (const s of flooded) s.socket.destroy();
      await h.close();
    }
  });

  it('L2: connectionSetupTimeoutMs: a connection that sends nothing, or only the HTTP/2 preface, is closed and counted; a client whose stream opened stays served', async () => {
    const logger = recordingLogger();
    const h = await start({ logger, limits: { connectionSetupTimeoutMs: setupBound } });
    const port = Number(h.address.split(':')[1]);
    let idle: RawSocket[] = [];
    try {
      const client = h.client();
      client.subscribe(Cluster, []);
      assert.deepEqual((await client.next(Cluster)).names, ['c1', 'c2']);
      idle = await flood(port, 2, '127.0.0.2');
      idle[1]!.socket.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
      await until(() => idle.every((s) => s.closed), 'the idle connections closed', patience);
      assert.deepEqual(h.server.connectionStats().refused, { connectionSetupTimeoutMs: 2 });
      const line = logger.warnings.find((w) => /connectionSetupTimeoutMs/.test(w.message));
      assert.ok(line, 'the close is logged');
      assert.equal((line.object as { peer: string }).peer, '127.0.0.2');
      // The client's connection is older than the bound, and it is still served.
      h.cache.setSnapshot('n1', clusters('c1', 'c3'));
      assert.deepEqual((await client.next(Cluster)).names, ['c1', 'c3']);
      assert.equal(h.server.connectionStats().open, 1);
    } finally {
      for (const s of idle) s.socket.destroy();
      await h.close();
    }
  });

  it('L2: unset, maxConnectionsPerPeer is a quarter of maxConnections: one peer cannot fill the gate, another connects', async () => {
    const h = await start({ limits: { maxConnections: 8, connectionSetupTimeoutMs: idleHeld } });
    const port = Number(h.address.split(':')[1]);
    let attacker: RawSocket[] = [];
    try {
      attacker = await flood(port, 8, '127.0.0.2');
      await until(() => attacker.filter((s) => s.closed).length === 6, 'six refused', patience);
      assert.deepEqual(h.server.connectionStats().refused, { maxConnectionsPerPeer: 6 });
      const bystander = h.client();
      bystander.subscribe(Cluster, []);
      assert.deepEqual((await bystander.next(Cluster)).names, ['c1', 'c2']);
    } finally {
      for (const s of attacker) s.socket.destroy();
      await h.close();
    }
  });

  describe('over TLS', () => {
    let pki: TestPki;
    let serverCert: TestCertificate;

    before(() => {
      pki = createTestPki();
      serverCert = pki.issue({ name: 'server', dns: ['localhost'], ips: ['127.0.0.1'] });
    });

    after(() => pki?.remove());

    /** A TLS connection: 'handshake' when it completes, 'refused' when the socket closes before. */
    function tlsOutcome(port: number): Promise<'handshake' | 'refused'> {
      return new Promise((resolve) => {
        const socket = tlsConnect({
          host: '127.0.0.1',
          port,
          ca: pki.ca.cert,
          servername: 'localhost',
          ALPNProtocols: ['h2'],
        });
        socket.on('error', () => {});
        socket.once('secureConnect', () => {
          socket.destroy();
          resolve('handshake');
        });
        socket.once('close', () => resolve('refused'));
      });
    }

    /** A server on a TLS listener with `limits`, and a TLS client of node n1 for it (not yet connected). */
    async function serveTls(limits: Limits) {
      const cache = new SnapshotCache();
      cache.setSnapshot('n1', sample());
      const server = new XdsServer({ cache, closeGraceMs: 1000, limits });
      const port = await server.listen('127.0.0.1:0', {
        tls: { cert: serverCert.cert, key: serverCert.key },
      });
      const client = new XdsTestClient({
        address: `127.0.0.1:${port}`,
        node: 'n1',
        timeoutMs: patience,
        credentials: tlsCredentials(pki.ca.cert),
      });
      return { cache, server, port, client };
    }

    it('L2: maxConnections holds on a TLS listener, before any handshake; a TLS client connected before is served', async () => {
      const { cache, server, port, client } = await serveTls({
        maxConnections: 3,
        maxConnectionsPerPeer: 3,
        connectionSetupTimeoutMs: idleHeld,
      });
      let held: RawSocket[] = [];
      try {
        client.subscribe(Cluster, []);
        assert.deepEqual((await client.next(Cluster)).names, ['c1', 'c2']);
        // Two raw connections that never start a handshake fill the cap with the client's.
        held = await flood(port, 2);
        await until(() => server.connectionStats().open === 3, 'three held', patience);
        assert.equal(await tlsOutcome(port), 'refused');
        assert.deepEqual(server.connectionStats().refused, { maxConnections: 1 });
        cache.setSnapshot('n1', clusters('c1', 'c3'));
        assert.deepEqual((await client.next(Cluster)).names, ['c1', 'c3']);
        held[0]!.socket.destroy();
        await until(() => server.connectionStats().open === 2, 'the freed connection counted out', patience);
        assert.equal(await tlsOutcome(port), 'handshake');
      } finally {
        for (const s of held) s.socket.destroy();
        await client.close();
        await server.close();
        cache.close();
      }
    });

    it('L2: connectionSetupTimeoutMs bounds the TLS handshake: a half ClientHello is closed and counted, a full handshake succeeds meanwhile, a TLS client with a stream outlives the bound', async () => {
      const { cache, server, port, client } = await serveTls({ connectionSetupTimeoutMs: setupBound });
      let half: RawSocket[] = [];
      try {
        // The bound is cleared through the TLS session's socket (review R10): a client whose stream opened keeps
        // its connection past the bound, as a plaintext one does.
        client.subscribe(Cluster, []);
        assert.deepEqual((await client.next(Cluster)).names, ['c1', 'c2']);
        half = await flood(port, 1);
        // A TLS record header announcing 512 bytes of handshake, and 4 of them.
        half[0]!.socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc]));
        assert.equal(await tlsOutcome(port), 'handshake');
        await until(() => half[0]!.closed, 'the half handshake closed', patience);
        assert.deepEqual(server.connectionStats().refused, { connectionSetupTimeoutMs: 1 });
        // The client connected before the half handshake, so its connection is older than the bound.
        cache.setSnapshot('n1', clusters('c1', 'c3'));
        assert.deepEqual((await client.next(Cluster)).names, ['c1', 'c3']);
        assert.deepEqual(server.connectionStats().refused, { connectionSetupTimeoutMs: 1 });
      } finally {
        await client.close();
        for (const s of half) s.socket.destroy();
        await server.close();
        cache.close();
      }
    });
  });
});
