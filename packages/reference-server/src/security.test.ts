import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { status } from '@grpc/grpc-js';
import { TypeUrl } from '@xds/api';
import {
  createSecureProcessSetup,
  httpsGet as getTls,
  probeAdminToken,
  type SecureProcessSetup,
  type TestCertificate,
  type TestPki,
  type XdsTestClient,
} from '@xds/testing';
import { createHttpAdmin, send, sendJson, textType } from './admin/http-admin.js';
import { statusPageContentSecurityPolicy } from './admin/status-page.js';
import { readAdminToken } from './admin-token.js';
import { binPath, type ServerProcess, startServerProcess } from './demo/server-process.js';
import type { ReferenceServer } from './reference-server.js';
import { runSync } from './test-exit.js';
import { get, startInProcess, tempDir } from './test-support.js';

/** Sends raw bytes to `host:port` and resolves with everything the server writes back before closing. */
function raw(address: string, bytes: string): Promise<string> {
  const at = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address.slice(0, at), port: Number(address.slice(at + 1)) });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
    socket.end(bytes);
  });
}

describe('admin port: hostile requests and headers (in process)', () => {
  let server: ReferenceServer;
  before(async () => {
    ({ server } = await startInProcess());
  });
  after(() => server?.close());

  it('L4: request targets that are not a path get 400 and the server keeps answering', async () => {
    for (const target of ['http://[', '*', 'http://admin/healthz', '//evil/', '/%']) {
      const answer = await raw(
        server.adminAddress,
        `GET ${target} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`,
      );
      assert.match(answer, /^HTTP\/1\.1 (400|404)/, `GET ${target}`);
    }
    assert.match(await raw(server.adminAddress, 'GET http://[ HTTP/1.1\r\n\r\n'), /^HTTP\/1\.1 400/);
    assert.match(await raw(server.adminAddress, 'NOT HTTP AT ALL\r\n\r\n'), /^HTTP\/1\.1 400/);
    assert.equal((await get(server.adminAddress, '/healthz')).status, 200);
  });

  it('every response says nosniff and a strict Content-Security-Policy; the status page allows only its own script', async () => {
    const headersOf = (path: string) =>
      new Promise<Record<string, string | string[] | undefined>>((resolve, reject) => {
        const at = server.adminAddress.lastIndexOf(':');
        const req = httpRequest(
          { host: '127.0.0.1', port: Number(server.adminAddress.slice(at + 1)), path, agent: false },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.headers));
          },
        );
        req.on('error', reject);
        req.end();
      });
    for (const path of ['/debug/syncz', '/metrics', '/healthz', '/nope']) {
      const headers = await headersOf(path);
      assert.equal(headers['x-content-type-options'], 'nosniff', path);
      assert.match(String(headers['content-security-policy']), /^default-src 'none'/, path);
      assert.match(String(headers['content-security-policy']), /frame-ancestors 'none'/, path);
    }
    const page = await headersOf('/');
    assert.equal(page['content-security-policy'], statusPageContentSecurityPolicy);
    assert.match(statusPageContentSecurityPolicy, /script-src 'sha256-[A-Za-z0-9+/]+=*'; style-src 'sha256-/);
    assert.doesNotMatch(statusPageContentSecurityPolicy, /unsafe-inline|unsafe-eval/);
  });
});

const istioNode = (pod: string, namespace: string) =>
  `sidecar~127.0.0.1~${pod}.${namespace}~${namespace}.svc.cluster.local`;

describe('the xds-server process with mutual TLS, node identity, an admin token and admin HTTPS', () => {
  const token = 'correct-horse-battery-staple-42';
  let setup: SecureProcessSetup;
  let pki: TestPki;
  let server: ServerProcess;
  let web: TestCertificate;
  let certFile: string;
  let keyFile: string;

  before(async () => {
    setup = createSecureProcessSetup({ token });
    pki = setup.pki;
    web = pki.issue({ name: 'web', uris: ['spiffe://cluster.local/ns/default/sa/bookinfo-productpage'] });
    // The xDS port's certificate is a copy, so that the rotation test can rewrite it.
    certFile = join(pki.dir, 'tls.crt');
    keyFile = join(pki.dir, 'tls.key');
    copyFileSync(setup.server.certFile, certFile);
    copyFileSync(setup.server.keyFile, keyFile);
    server = await startServerProcess([
      '--xds',
      '127.0.0.1:0',
      '--admin',
      '127.0.0.1:0',
      ...setup.flags({ certFile, keyFile }),
      '--trust-domain',
      'cluster.local',
    ]);
  });

  after(async () => {
    await server?.process.stop('SIGKILL');
    await setup?.close();
  });

  function client(node: string, cert: TestCertificate | undefined): XdsTestClient {
    const c = setup.client({ address: server.xdsAddress, node }, cert);
    c.subscribe(TypeUrl.Cluster, ['*']);
    return c;
  }

  it('logs that xDS is served over mutual TLS with node identity', () => {
    const started = server.logs.find((l) => l['xdsSecurity'] !== undefined);
    assert.equal(started?.['xdsSecurity'], 'mutual TLS');
    assert.equal(started?.['nodeIdentity'], true);
    assert.equal(started?.['adminToken'], true);
  });

  it('L6: a certificate of namespace default gets the snapshot of an Istio node in default', async () => {
    const c = client(istioNode('productpage-v1-abc', 'default'), web);
    await c.waitFor(TypeUrl.Cluster, (r) => r.acked === true);
    assert.ok(c.resources(TypeUrl.Cluster).size > 0, 'c.resources(TypeUrl.Cluster).size > 0');
  });

  it('L6: claiming a node of another namespace is PERMISSION_DENIED naming both', async () => {
    const node = istioNode('ratings-v1-xyz', 'payments');
    const end = await client(node, web).ended();
    assert.equal(end.code, status.PERMISSION_DENIED);
    assert.ok(end.details.includes('spiffe://cluster.local/ns/default/sa/bookinfo-productpage'), end.details);
    assert.ok(end.details.includes(node), end.details);
  });

  it('--tls-client-ca: a client without a certificate does not get a connection', async () => {
    const end = await client(istioNode('productpage-v1-abc', 'default'), undefined).ended();
    assert.equal(end.code, status.UNAVAILABLE);
  });

  it('--admin-token-file and --admin-tls-*: HTTPS, 401 without the token, /healthz open', async () => {
    const probe = await probeAdminToken(server.adminAddress, pki.ca.cert, token);
    assert.equal(probe.withoutToken.status, 401);
    assert.equal(probe.wrongToken.status, 401);
    assert.equal(probe.withToken.status, 200);
    assert.ok(
      JSON.parse(probe.withToken.body).nodes.length >= 1,
      'JSON.parse(probe.withToken.body).nodes.length >= 1',
    );
    assert.equal(probe.healthz.status, 200);
    assert.equal(probe.readyz.status, 200);
    await assert.rejects(get(server.adminAddress, '/healthz'), 'plain HTTP gets no answer');
  });

  it('L4: a raw "GET http://[" on the admin port gets 400 and the process keeps serving', async () => {
    const at = server.adminAddress.lastIndexOf(':');
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect(
        {
          host: '127.0.0.1',
          port: Number(server.adminAddress.slice(at + 1)),
          ca: pki.ca.cert,
          servername: 'localhost',
        },
        () => socket.end('GET http://[ HTTP/1.1\r\nhost: x\r\n\r\n'),
      );
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
      socket.on('error', reject);
    });
    assert.match(answer, /^HTTP\/1\.1 400/);
    assert.equal(server.process.done, false);
    assert.equal((await getTls(server.adminAddress, '/healthz', pki.ca.cert)).status, 200);
  });

  it('rotation: after the certificate files are rewritten, new xDS connections get the new certificate', async () => {
    const fingerprint = () =>
      new Promise<string>((resolve, reject) => {
        const at = server.xdsAddress.lastIndexOf(':');
        const socket = tlsConnect(
          {
            host: '127.0.0.1',
            port: Number(server.xdsAddress.slice(at + 1)),
            ca: pki.ca.cert,
            servername: 'localhost',
            ALPNProtocols: ['h2'],
            cert: web.cert,
            key: web.key,
          },
          () => {
            resolve(socket.getPeerCertificate().fingerprint256);
            socket.destroy();
          },
        );
        socket.on('error', reject);
      });
    const original = await fingerprint();
    const next = pki.issue({ name: 'server-next', dns: ['localhost'], ips: ['127.0.0.1'] });
    const from = server.logs.length;
    writeFileSync(keyFile, next.key);
    writeFileSync(certFile, next.cert);
    await server.process.waitFor(
      (line) => line['msg'] === 'TLS certificates reloaded; new connections use them',
      15_000,
      from,
    );
    const rotated = await fingerprint();
    assert.notEqual(rotated, original);
    assert.equal(rotated, new (await import('node:crypto')).X509Certificate(next.cert).fingerprint256);
    const c = client(istioNode('productpage-v1-new', 'default'), web);
    await c.waitFor(TypeUrl.Cluster, (r) => r.acked === true);
  });
});

describe('start-up refusals of security files', () => {
  let temp: ReturnType<typeof tempDir>;
  before(() => {
    temp = tempDir();
  });
  after(() => temp.remove());

  it('a short, spaced or missing admin token file stops the start, naming the file', () => {
    const short = join(temp.dir, 'short');
    writeFileSync(short, 'abc\n');
    assert.throws(() => readAdminToken(short), /short: the token has 3 characters; it needs at least 16/);
    const spaced = join(temp.dir, 'spaced');
    writeFileSync(spaced, 'a token with spaces in it\n');
    assert.throws(() => readAdminToken(spaced), /printable ASCII without spaces/);
    assert.throws(() => readAdminToken(join(temp.dir, 'none')), /none: cannot read the file: ENOENT/);
    const good = join(temp.dir, 'good');
    writeFileSync(good, '  0123456789abcdef\n');
    assert.equal(readAdminToken(good), '0123456789abcdef');
  });

  it('a missing certificate file stops the start with exit 1, naming the file', () => {
    const missing = join(temp.dir, 'missing.crt');
    const run = runSync([
      binPath,
      '--xds',
      '127.0.0.1:0',
      '--admin',
      '127.0.0.1:0',
      '--tls-cert',
      missing,
      '--tls-key',
      missing,
    ]);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /TLS cert file .*missing\.crt: cannot read the file: ENOENT/);
  });
});

describe('createHttpAdmin (the operator server xds-server and xds-relay share)', () => {
  const logged: string[] = [];
  const logger = {
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: (_o: object, message?: string) => logged.push(message ?? ''),
  };
  const admin = createHttpAdmin(
    {
      '/healthz': (_url, response) => send(response, 200, textType, 'ok\n'),
      '/throws': () => {
        throw new Error('boom');
      },
      '/rejects': async () => {
        throw new Error('later boom');
      },
      '/secret': (_url, response) => sendJson(response, 200, { secret: true }),
    },
    logger,
    { token: 'a-token-of-sixteen-plus' },
  );
  let address: string;
  before(async () => {
    address = `127.0.0.1:${await admin.listen('127.0.0.1:0')}`;
  });
  after(() => admin.close());

  it('L4: a page that throws, now or later, answers 500 and the server goes on', async () => {
    const auth = 'authorization: Bearer a-token-of-sixteen-plus\r\n';
    for (const path of ['/throws', '/rejects'])
      assert.match(
        await raw(address, `GET ${path} HTTP/1.1\r\nhost: x\r\n${auth}connection: close\r\n\r\n`),
        /^HTTP\/1\.1 500[\s\S]*nosniff/i,
        path,
      );
    assert.deepEqual(logged, ['admin request failed', 'admin request failed']);
    assert.equal((await get(address, '/healthz')).status, 200);
  });

  it('the token guards every page but the open ones; 401 says Bearer', async () => {
    const denied = await raw(address, 'GET /secret HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    assert.match(denied, /^HTTP\/1\.1 401/);
    assert.match(denied, /www-authenticate: Bearer/i);
    assert.doesNotMatch(denied, /"secret"/);
    assert.match(
      await raw(
        address,
        'GET /secret HTTP/1.1\r\nhost: x\r\nauthorization: Bearer a-token-of-sixteen-plus\r\nconnection: close\r\n\r\n',
      ),
      /^HTTP\/1\.1 200[\s\S]*"secret": true/,
    );
    assert.equal((await get(address, '/healthz')).status, 200);
  });
});
