// Rule L2, finding Q10: `limits.maxStreamsPerNode` must not let one client lock a node out by claiming its node id.
// A node id nothing binds to the caller counts per node id and peer address (127.0.0.2 and 127.0.0.3 are distinct
// peers on loopback); a node id bound to the call's verified certificate (nodeIdentity over mutual TLS) counts per
// node id across peers. Review R6: one peer's header-only streams are bounded across its connections.
import assert from 'node:assert/strict';
import { type ClientHttp2Session, connect } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { status } from '@grpc/grpc-js';
import { TypeUrl } from '@xds/api';
import { Snapshot, SnapshotCache } from '@xds/cache';
import { createTestPki, type TestCertificate, type TestPki } from '@xds/testing';
import { cluster, start } from './test-harness.js';
import { methodPathOf, RawConnection, RawStream, until } from './test-raw-client.js';
import { XdsServer } from './xds-server.js';

const { Cluster } = TypeUrl;
const wait = 30_000;

/** Opens a SotW stream on `session` and sends a first request as `node`. */
function claim(session: ClientHttp2Session, node: string): RawStream {
  const stream = new RawStream(
    session.request({
      ':method': 'POST',
      ':path': methodPathOf('sotw'),
      'content-type': 'application/grpc',
      te: 'trailers',
    }),
  );
  stream.send({ node: { id: node }, typeUrl: Cluster });
  return stream;
}

/** Resolves once `stream` has its first response; fails if it ends first. */
async function served(stream: RawStream, what: string): Promise<void> {
  let end: unknown;
  void stream.ended.then((e) => {
    end = e;
  });
  await until(() => stream.responses.length > 0 || end !== undefined, what, wait);
  assert.equal(stream.responses.length, 1, `${what}: ended with ${JSON.stringify(end)}`);
}

describe('L2: streams per node cannot be used up by another peer (finding Q10)', () => {
  it('L2: a peer that claims another node id uses up its own share of limits.maxStreamsPerNode; the node is still served from its own address', async () => {
    const h = await start({ limits: { maxStreamsPerNode: 2 } });
    const port = Number(h.address.split(':')[1]);
    const attacker = new RawConnection(port, { localAddress: '127.0.0.2' });
    const node = new RawConnection(port, { localAddress: '127.0.0.3' });
    try {
      const claimed = [claim(attacker.session, 'n1'), claim(attacker.session, 'n1')];
      for (const stream of claimed) await served(stream, "the claimant's stream");
      // Before the fix the node's own streams were refused here: the count was per node id alone.
      const own = [claim(node.session, 'n1'), claim(node.session, 'n1')];
      for (const stream of own) await served(stream, "the node's stream from its own address");
      // The claimant's own streams stay bounded.
      const third = await claim(attacker.session, 'n1').end(wait);
      assert.equal(third.grpcStatus, status.RESOURCE_EXHAUSTED);
      assert.match(
        third.grpcMessage ?? '',
        /node "n1" already has limits\.maxStreamsPerNode \(2\) xDS streams open from peer 127\.0\.0\.2/,
      );
      assert.equal(h.server.streamStats().endedByLimit.maxStreamsPerNode, 1);
      assert.equal(h.server.clients().find((c) => c.nodeId === 'n1')?.streams, 4);
    } finally {
      attacker.close();
      node.close();
      await h.close();
    }
  });
});

describe('L2: pending streams per peer address (review R6)', () => {
  it('L2: header-only streams of one peer past limits.maxPendingStreamsPerPeer end with RESOURCE_EXHAUSTED naming it and the peer, across its connections; other peers go on', async () => {
    const h = await start({ limits: { maxPendingStreamsPerPeer: 3, firstRequestTimeoutMs: 600_000 } });
    const port = Number(h.address.split(':')[1]);
    const [a, b] = [0, 1].map(() => new RawConnection(port, { localAddress: '127.0.0.2' }));
    const other = new RawConnection(port, { localAddress: '127.0.0.3' });
    try {
      const held = [a!.open(), a!.open()];
      await until(() => h.server.pendingStreams === 2, 'two pending streams', wait);
      held.push(b!.open());
      const refused = b!.open();
      const end = await refused.end(wait);
      assert.equal(end.grpcStatus, status.RESOURCE_EXHAUSTED);
      assert.match(
        end.grpcMessage ?? '',
        /peer 127\.0\.0\.2 already has limits\.maxPendingStreamsPerPeer \(3\) xDS streams waiting for their first request/,
      );
      assert.equal(h.server.pendingStreams, 3);
      assert.equal(h.server.streamStats().endedByLimit.maxPendingStreamsPerPeer, 1);
      // Another peer's header-only stream is held.
      other.open();
      await until(() => h.server.pendingStreams === 4, "the other peer's pending stream", wait);
      // A stream whose first request is accepted stops counting: the peer may open another.
      held[0]!.send({ node: { id: 'n1' }, typeUrl: Cluster });
      await served(held[0]!, 'the first request of a held stream');
      b!.open();
      await until(() => h.server.pendingStreams === 4, 'a new pending stream of the peer', wait);
      assert.equal(h.server.streamStats().endedByLimit.maxPendingStreamsPerPeer, 1);
    } finally {
      for (const c of [a!, b!, other]) c.close();
      await h.close();
    }
  });
});

describe('L2: a node id bound to a verified certificate counts across peers', () => {
  const nodeA = 'sidecar~10.0.0.1~web-7d9f.team-a~team-a.svc.cluster.local';
  let pki: TestPki;
  let server: XdsServer;
  let cache: SnapshotCache;
  let port: number;
  let teamA: TestCertificate;
  const sessions: ClientHttp2Session[] = [];

  before(async () => {
    pki = createTestPki();
    const serverCert = pki.issue({ name: 'server', dns: ['localhost'], ips: ['127.0.0.1'] });
    teamA = pki.issue({ name: 'team-a', uris: ['spiffe://cluster.local/ns/team-a/sa/web'] });
    cache = new SnapshotCache();
    cache.setSnapshot(nodeA, Snapshot.create([cluster('a-only')]));
    server = new XdsServer({
      cache,
      closeGraceMs: 500,
      nodeIdentity: { trustDomains: ['cluster.local'] },
      limits: { maxStreamsPerNode: 2 },
    });
    port = await server.listen('127.0.0.1:0', {
      tls: { cert: serverCert.cert, key: serverCert.key, ca: pki.ca.cert, requireClientCert: true },
    });
  });

  after(async () => {
    for (const session of sessions) session.destroy();
    await server?.close();
    cache?.close();
    pki?.remove();
  });

  /** An HTTP/2 connection over mutual TLS from `localAddress`, presenting `cert`. */
  function mtls(localAddress: string, cert: TestCertificate): ClientHttp2Session {
    const session = connect(`https://localhost:${port}`, {
      createConnection: () =>
        tlsConnect({
          socket: netConnect({ host: '127.0.0.1', port, localAddress }),
          servername: 'localhost',
          ca: pki.ca.cert,
          cert: cert.cert,
          key: cert.key,
          ALPNProtocols: ['h2'],
        }),
    });
    session.on('error', () => {});
    sessions.push(session);
    return session;
  }

  it('L2: streams of a verified node from two peers count together against limits.maxStreamsPerNode', async () => {
    const one = mtls('127.0.0.2', teamA);
    const two = mtls('127.0.0.3', teamA);
    await served(claim(one, nodeA), 'the first stream of the verified node');
    await served(claim(two, nodeA), 'its second stream, from another peer');
    const third = await claim(one, nodeA).end(wait);
    assert.equal(third.grpcStatus, status.RESOURCE_EXHAUSTED);
    assert.match(third.grpcMessage ?? '', /already has limits\.maxStreamsPerNode \(2\) xDS streams open$/);
    assert.equal(server.streamStats().endedByLimit.maxStreamsPerNode, 1);
  });
});
