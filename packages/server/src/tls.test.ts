import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:tls';
import { credentials, status } from '@grpc/grpc-js';
import { Code, TypeUrl, XdsError } from '@xds/api';
import { SnapshotCache } from '@xds/cache';
import { createTestPki, type TestCertificate, type TestPki, XdsTestClient } from '@xds/testing';
import { sample } from './test-harness.js';
import { ServerTls, type TlsMaterial } from './tls.js';
import { XdsServer } from './xds-server.js';

/** The SHA-256 fingerprint of the certificate a fresh TLS connection to `port` is shown. */
function servedFingerprint(port: number, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host: '127.0.0.1', port, ca, servername: 'localhost', ALPNProtocols: ['h2'] },
      () => {
        const fingerprint = socket.getPeerCertificate().fingerprint256;
        socket.destroy();
        resolve(fingerprint);
      },
    );
    socket.once('error', reject);
  });
}

function fingerprintOf(cert: Buffer): string {
  return new X509Certificate(cert).fingerprint256;
}

describe('TLS on the xDS port', () => {
  let pki: TestPki;
  let serverCert: TestCertificate;
  let clientCert: TestCertificate;
  const servers: XdsServer[] = [];
  const clients: XdsTestClient[] = [];

  before(() => {
    pki = createTestPki();
    serverCert = pki.issue({ name: 'server', dns: ['localhost'], ips: ['127.0.0.1'] });
    clientCert = pki.issue({ name: 'client', uris: ['spiffe://cluster.local/ns/a/sa/web'] });
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(servers.map((s) => s.close()));
    pki?.remove();
  });

  async function serve(tls: ConstructorParameters<typeof ServerTls>[0] | ServerTls): Promise<number> {
    const cache = new SnapshotCache();
    cache.setSnapshot('n1', sample());
    const server = new XdsServer({ cache, closeGraceMs: 500 });
    servers.push(server);
    return server.listen('127.0.0.1:0', { tls });
  }

  /** Serves with copies of the server's files in a directory of their own, reloaded every 50 ms. */
  async function serveFromFiles(name: string) {
    const dir = join(pki.dir, name);
    mkdirSync(dir);
    const certFile = join(dir, 'tls.crt');
    const keyFile = join(dir, 'tls.key');
    copyFileSync(serverCert.certFile, certFile);
    copyFileSync(serverCert.keyFile, keyFile);
    const tls = new ServerTls({ cert: certFile, key: keyFile, reloadIntervalMs: 50 });
    return { certFile, keyFile, tls, port: await serve(tls) };
  }

  function client(port: number, creds: ReturnType<typeof credentials.createSsl>) {
    const c = new XdsTestClient({
      address: `127.0.0.1:${port}`,
      node: 'n1',
      credentials: creds,
      timeoutMs: 5000,
    });
    clients.push(c);
    return c;
  }

  it('a TLS client gets its resources; a plaintext client does not connect', async () => {
    const port = await serve({ cert: serverCert.certFile, key: serverCert.keyFile });
    const tlsClient = client(port, credentials.createSsl(pki.ca.cert));
    tlsClient.subscribe(TypeUrl.Cluster, []);
    const response = await tlsClient.next(TypeUrl.Cluster);
    assert.equal(response.resources.length, 2);

    const plain = client(port, credentials.createInsecure());
    plain.subscribe(TypeUrl.Cluster, []);
    const end = await plain.ended();
    assert.equal(end.code, status.UNAVAILABLE);
    assert.equal(plain.responses().length, 0);
  });

  it('mutual TLS: a client without a certificate is refused, one with a certificate from the CA is served', async () => {
    const port = await serve({ cert: serverCert.cert, key: serverCert.key, ca: pki.ca.cert });
    const anonymous = client(port, credentials.createSsl(pki.ca.cert));
    anonymous.subscribe(TypeUrl.Cluster, []);
    assert.equal((await anonymous.ended()).code, status.UNAVAILABLE);

    const stranger = createTestPki('stranger-ca');
    try {
      const foreign = stranger.issue({ name: 'foreign' });
      const forged = client(port, credentials.createSsl(pki.ca.cert, foreign.key, foreign.cert));
      forged.subscribe(TypeUrl.Cluster, []);
      assert.equal((await forged.ended()).code, status.UNAVAILABLE, 'a certificate from another CA');
    } finally {
      stranger.remove();
    }

    const known = client(port, credentials.createSsl(pki.ca.cert, clientCert.key, clientCert.cert));
    known.subscribe(TypeUrl.Cluster, []);
    assert.equal((await known.next(TypeUrl.Cluster)).resources.length, 2);
  });

  it('rotation: after the files are rewritten, a new connection sees the new certificate; the old stream stays', async () => {
    const { certFile, keyFile, tls, port } = await serveFromFiles('rotating');
    assert.equal(await servedFingerprint(port, pki.ca.cert), fingerprintOf(serverCert.cert));
    const early = client(port, credentials.createSsl(pki.ca.cert));
    early.subscribe(TypeUrl.Cluster, []);
    await early.next(TypeUrl.Cluster);

    const next = pki.issue({ name: 'server-2', dns: ['localhost'], ips: ['127.0.0.1'] });
    const failed = new Promise<string>((resolve) => tls.once('reloadFailed', (f) => resolve(f.message)));
    // A rotation half done: the new certificate with the old key. It must not go into service.
    writeFileSync(certFile, next.cert);
    assert.match(await failed, /are not usable together/);
    assert.equal(await servedFingerprint(port, pki.ca.cert), fingerprintOf(serverCert.cert));

    const reloaded = new Promise<TlsMaterial>((resolve) => tls.once('reloaded', resolve));
    writeFileSync(keyFile, next.key);
    assert.ok((await reloaded).cert.equals(next.cert));
    assert.equal(await servedFingerprint(port, pki.ca.cert), fingerprintOf(next.cert));

    const late = client(port, credentials.createSsl(pki.ca.cert));
    late.subscribe(TypeUrl.Cluster, []);
    assert.equal((await late.next(TypeUrl.Cluster)).resources.length, 2);
    assert.equal(servers.at(-1)?.streamCount, 2, 'the stream opened before the rotation is still open');
  });

  it('L4: a certificate swapped for a FIFO or /dev/zero is refused at reload, the loop runs and the old pair serves', async () => {
    const { certFile, tls, port } = await serveFromFiles('hostile');
    const failures: string[] = [];
    tls.on('reloadFailed', (f) => failures.push(f.message));

    // A FIFO nobody writes: before, the reload's readFileSync blocked the event loop until a writer came.
    rmSync(certFile);
    execFileSync('mkfifo', [certFile]);
    const fifo = new Promise<string>((resolve) => tls.once('reloadFailed', (f) => resolve(f.message)));
    assert.match(await fifo, /tls\.crt: cannot read the file: not a regular file/);
    assert.equal(await servedFingerprint(port, pki.ca.cert), fingerprintOf(serverCert.cert));

    // A character device, whose size says 0: before, it was read until the buffer limit.
    rmSync(certFile);
    symlinkSync('/dev/zero', certFile);
    const device = new Promise<string>((resolve) => tls.once('reloadFailed', (f) => resolve(f.message)));
    assert.match(await device, /tls\.crt: cannot read the file: not a regular file/);
    const c = client(port, credentials.createSsl(pki.ca.cert));
    c.subscribe(TypeUrl.Cluster, []);
    assert.equal((await c.next(TypeUrl.Cluster)).resources.length, 2);
    assert.ok(failures.length >= 2);
  });

  it('files that cannot be used are refused at listen, naming the file', async () => {
    const server = new XdsServer({ cache: new SnapshotCache() });
    servers.push(server);
    await assert.rejects(
      server.listen('127.0.0.1:0', { tls: { cert: join(pki.dir, 'nope.crt'), key: serverCert.keyFile } }),
      (error: unknown) =>
        error instanceof XdsError && error.code === Code.InvalidArgument && /nope\.crt/.test(error.message),
    );
    await assert.rejects(
      server.listen('127.0.0.1:0', { tls: { cert: serverCert.certFile, key: clientCert.keyFile } }),
      (error: unknown) => error instanceof XdsError && /are not usable together/.test(error.message),
    );
    assert.throws(
      () => new ServerTls({ cert: serverCert.cert, key: serverCert.key, requireClientCert: true }),
      /requireClientCert needs the CA/,
    );
  });
});
