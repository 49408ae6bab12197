// The relay's security flags end to end, through the `xds-relay` command: mutual TLS to an origin that demands a
// client certificate, mutual TLS for downstream clients, and admin pages over HTTPS behind a bearer token.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { TypeUrl } from '@xds/api';
import { SnapshotCache } from '@xds/cache';
import { XdsServer } from '@xds/server';
import {
  createSecureProcessSetup,
  httpsGet as getTls,
  probeAdminToken,
  type SecureProcessSetup,
  type TestCertificate,
  type TestPki,
  type XdsTestClient,
} from '@xds/testing';
import { relayStatusRefusal } from './relay-identity.js';
import { fetchClientStatus } from './test-csds.js';
import {
  originKey,
  originSnapshot,
  type RelayCommand,
  relayWaitMs,
  startRelayCommand,
} from './test-support.js';
import { upstreamCredentials } from './upstream-tls.js';

describe('xds-relay with TLS upstream and downstream, an admin token and admin HTTPS', () => {
  const token = 'relay-admin-token-0123456789';
  let setup: SecureProcessSetup;
  let pki: TestPki;
  let origin: XdsServer;
  let relay: RelayCommand;
  let client: TestCertificate;

  before(async () => {
    // One certificate serves the relay's xDS and admin ports and is its client certificate upstream.
    setup = createSecureProcessSetup({ token, serverName: 'relay' });
    pki = setup.pki;
    const originCert = pki.issue({ name: 'origin', ips: ['127.0.0.1'] });
    client = pki.issue({ name: 'client' });
    const cache = new SnapshotCache({ nodeKey: () => originKey });
    cache.setSnapshot(originKey, originSnapshot());
    origin = new XdsServer({ cache, closeGraceMs: 200 });
    // The origin serves mutual TLS only: the relay reaches it only with its client certificate.
    const port = await origin.listen('127.0.0.1:0', {
      tls: { cert: originCert.certFile, key: originCert.keyFile, ca: pki.ca.certFile },
    });
    relay = await startRelayCommand([
      '--upstream',
      `127.0.0.1:${port}`,
      '--upstream-ca',
      pki.ca.certFile,
      '--upstream-cert',
      setup.server.certFile,
      '--upstream-key',
      setup.server.keyFile,
      '--xds',
      '127.0.0.1:0',
      '--admin',
      '127.0.0.1:0',
      ...setup.flags(),
    ]);
  });

  after(async () => {
    if (relay?.child.exitCode === null) relay.child.kill('SIGKILL');
    await origin?.close();
    await setup?.close();
  });

  const started = () => relay.logs().find((line) => line['xdsSecurity'] !== undefined) ?? {};
  const address = (key: 'xds' | 'admin') => String(started()[key]);

  function downstream(id: string, cert: TestCertificate | undefined): XdsTestClient {
    const c = setup.client({ address: address('xds'), node: id, timeoutMs: relayWaitMs }, cert);
    c.subscribe(TypeUrl.Cluster, ['*']);
    return c;
  }

  it('logs what it serves how', () => {
    assert.equal(started()['xdsSecurity'], 'mutual TLS');
    assert.equal(started()['upstreamTls'], true);
    assert.equal(started()['adminToken'], true);
  });

  it('X1: a downstream client with a certificate gets the origin clusters over mutual TLS both ways', async () => {
    const c = downstream('n1', client);
    await c.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.size === 2);
    assert.deepEqual([...c.resources(TypeUrl.Cluster).keys()].sort(), ['c1', 'c2']);
  });

  it('--tls-client-ca: a downstream client without a certificate gets no connection', async () => {
    const end = await downstream('n2', undefined).ended();
    assert.equal(end.code, status.UNAVAILABLE);
  });

  it('L6: with --tls-client-ca and no --trust-domain, CSDS is refused to a client certificate the relay serves', async () => {
    await downstream('n3', client).waitFor(TypeUrl.Cluster, (_r, s) => s.resources.size === 2);
    const answer = await fetchClientStatus(address('xds'), pki.ca.cert, client);
    assert.equal(answer.code, status.PERMISSION_DENIED);
    assert.equal(answer.details, relayStatusRefusal);
    assert.deepEqual(answer.nodes, []);
  });

  it('--admin-token-file and --admin-tls-*: HTTPS, 401 without the token, /healthz and /readyz open', async () => {
    const admin = address('admin');
    const probe = await probeAdminToken(admin, pki.ca.cert, token);
    assert.equal(probe.withoutToken.status, 401);
    assert.equal(probe.wrongToken.status, 401);
    assert.equal(
      (await getTls(admin, '/metrics', pki.ca.cert, { authorization: `Bearer ${token}x` })).status,
      401,
    );
    assert.equal(probe.withToken.status, 200);
    assert.equal((JSON.parse(probe.withToken.body) as { upstream: string }).upstream, 'connected');
    assert.equal(probe.healthz.status, 200);
    assert.equal(probe.readyz.status, 200);
  });

  it('upstream TLS files are checked at start, naming the flag and file', () => {
    const missing = join(pki.dir, 'missing.pem');
    assert.throws(
      () => upstreamCredentials({ upstreamCa: missing, upstreamCert: undefined, upstreamKey: undefined }),
      new RegExp(`--upstream-ca ${missing}`),
    );
    const other = pki.issue({ name: 'other' });
    assert.throws(
      () =>
        upstreamCredentials({
          upstreamCa: pki.ca.certFile,
          upstreamCert: client.certFile,
          upstreamKey: other.keyFile,
        }),
      /--upstream-cert .* and --upstream-key .* are not usable together/,
    );
    assert.equal(
      upstreamCredentials({ upstreamCa: undefined, upstreamCert: undefined, upstreamKey: undefined }),
      undefined,
    );
  });
});
