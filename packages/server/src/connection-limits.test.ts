// Rule L2 for connections (issue 10): `limits.maxConnections` and `limits.maxConnectionsPerPeer` bound the TCP
// connections the xDS listener holds. Past a limit a connection is closed as it is accepted, before TLS or HTTP/2
// work; the clients already connected are served; a connection that closes makes room for a new one.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type ClientHttp2Session, connect as http2Connect } from 'node:http2';
import { connect, createServer, type Server as NetServer, type Socket } from 'node:net';
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
import type { Logger } from './logger.js';
import { cluster, sample, start } from './test-harness.js';
import { until } from './test-raw-client.js';
import { XdsServer } from './xds-server.js';

const { Cluster } = TypeUrl;
const patience = 60_000;
/** A set-up bound long enough that the idle sockets a test holds stay held for the whole test. */
const idleHeld = 3_600_000;
/**
 * The set-up bound of the tests that prove it: long enough for a client on a loaded machine to open its stream,
 * short enough for a test.
 */
const setupBound = 10_000;

/** A snapshot whose clusters are `names`: setting it pushes a Cluster response to node n1's subscribers. */
function clusters(...names: string[]): Snapshot {
  return Snapshot.create(names.map((name) => cluster(name)));
}

/** A logger that keeps its warn lines. */
function recordingLogger(): Logger & { readonly warnings: { object: object; message: string }[] } {
  const warnings: { object: object; message: string }[] = [];
  const noop = () => {};
  return {
    warnings,
    debug: noop,
    info: noop,
    error: noop,
    warn: (object, message = '') => warnings.push({ object, message }),
  };
}

/** A raw TCP connection from `localAddress`, with whether and when the server closed it. */
interface RawSocket {
  readonly socket: Socket;
  closed: boolean;
}

function rawSocket(port: number, localAddress = '127.0.0.1'): RawSocket {
  const socket = connect({ host: '127.0.0.1', port, localAddress });
  const raw: RawSocket = { socket, closed: false };
  socket.on('error', () => {});
  // Read (and drop) what the server sends, so that its close is seen after its SETTINGS.
  socket.resume();
  socket.on('close', () => {
    raw.closed = true;
  });
  return raw;
}

/** Opens `count` raw connections from `localAddress` and waits until each is connected or closed. */
async function flood(port: number, count: number, localAddress = '127.0.0.1'): Promise<RawSocket[]> {
  const sockets = Array.from({ length: count }, () => rawSocket(port, localAddress));
  await until(
    () => sockets.every((s) => s.closed || (!s.socket.connecting && s.socket.remotePort !== undefined)),
    'the flood connected',
    patience,
  );
  return sockets;
}

/**
 * An HTTP/2 connection from `localAddress`: 'served' once the server's SETTINGS arrive (it made a session for
 * it), 'refused' when the connection closes before that.
 */
async function http2Outcome(port: number, localAddress = '127.0.0.1'): Promise<'served' | 'refused'> {
  const session: ClientHttp2Session = http2Connect(`http://127.0.0.1:${port}`, {
    createConnection: () => connect({ host: '127.0.0.1', port, localAddress }),
  });
  session.on('error', () => {});
  try {
    return await new Promise<'served' | 'refused'>((resolve) => {
      session.once('remoteSettings', () => resolve('served'));
      session.once('close', () => resolve('refused'));
    });
  } finally {
    session.destroy();
  }
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
        refused: { maxConnectionsPerPeer: 6 },
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
      assert.deepEqual(h.server.connectionStats(), { open: 5, peers: 1, refused: { maxConnections: 16 } });
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

    it('L2: maxConnections holds on a TLS listener, before any handshake; a TLS client connected before is served', async () => {
      const cache = new SnapshotCache();
      cache.setSnapshot('n1', sample());
      const server = new XdsServer({
        cache,
        closeGraceMs: 1000,
        limits: { maxConnections: 3, maxConnectionsPerPeer: 3, connectionSetupTimeoutMs: idleHeld },
      });
      const port = await server.listen('127.0.0.1:0', {
        tls: { cert: serverCert.cert, key: serverCert.key },
      });
      let held: RawSocket[] = [];
      const client = new XdsTestClient({
        address: `127.0.0.1:${port}`,
        node: 'n1',
        timeoutMs: patience,
        credentials: tlsCredentials(pki.ca.cert),
      });
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

    it('L2: connectionSetupTimeoutMs bounds the TLS handshake: a half ClientHello is closed and counted, a full handshake succeeds meanwhile', async () => {
      const cache = new SnapshotCache();
      cache.setSnapshot('n1', sample());
      const server = new XdsServer({
        cache,
        closeGraceMs: 1000,
        limits: { connectionSetupTimeoutMs: setupBound },
      });
      const port = await server.listen('127.0.0.1:0', {
        tls: { cert: serverCert.cert, key: serverCert.key },
      });
      let half: RawSocket[] = [];
      try {
        half = await flood(port, 1);
        // A TLS record header announcing 512 bytes of handshake, and 4 of them.
        half[0]!.socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc]));
        assert.equal(await tlsOutcome(port), 'handshake');
        await until(() => half[0]!.closed, 'the half handshake closed', patience);
        assert.deepEqual(server.connectionStats().refused, { connectionSetupTimeoutMs: 1 });
      } finally {
        for (const s of half) s.socket.destroy();
        await server.close();
        cache.close();
      }
    });
  });
});

describe('ConnectionGate', () => {
  it('L2: peers are keyed by address, an IPv4-mapped IPv6 address as its IPv4 form', () => {
    assert.equal(peerKey('::ffff:10.1.2.3'), '10.1.2.3');
    assert.equal(peerKey('10.1.2.3'), '10.1.2.3');
    assert.equal(peerKey('FE80::1'), 'fe80::1');
    assert.equal(peerKey(undefined), undefined);
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
      { maxConnections: 1, maxConnectionsPerPeer: 1, connectionSetupTimeoutMs: idleHeld },
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
      assert.deepEqual(gate.stats(), { open: 1, peers: 1, refused: { maxConnections: 7 } });
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
