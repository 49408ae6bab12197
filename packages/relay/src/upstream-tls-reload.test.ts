// `--upstream-ca/--upstream-cert/--upstream-key` are reloaded when their files change, as the server's own
// certificates are: through the real `xds-relay` command, real certificates (openssl, @xds/testing's test PKI) and
// two real origins that demand mutual TLS from different CAs. The relay starts trusting the first; its files are
// rewritten with the second CA's; when the first origin goes away, the new upstream connection to the second one
// succeeds only with the new files.
import assert from 'node:assert/strict';
import { copyFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { Snapshot, SnapshotCache } from '@xds/cache';
import { makeCluster } from '@xds/generator';
import { XdsServer } from '@xds/server';
import { createTestPki, type TestPki, XdsTestClient } from '@xds/testing';
import { originKey, originSnapshot, type RelayCommand, startRelayCommand } from './test-support.js';
import { UpstreamTls } from './upstream-tls.js';

/** An origin on 127.0.0.1 that serves `snapshot` over mutual TLS with certificates of `pki`. */
async function mutualTlsOrigin(
  pki: TestPki,
  snapshot: Snapshot,
): Promise<{ server: XdsServer; address: string }> {
  const cert = pki.issue({ name: 'origin', ips: ['127.0.0.1'] });
  const cache = new SnapshotCache({ nodeKey: () => originKey });
  cache.setSnapshot(originKey, snapshot);
  const server = new XdsServer({ cache, closeGraceMs: 200 });
  const port = await server.listen('127.0.0.1:0', {
    tls: { cert: cert.certFile, key: cert.keyFile, ca: pki.ca.certFile },
  });
  return { server, address: `127.0.0.1:${port}` };
}

/** Replaces `to` with `from` in one rename, as a certificate manager does. */
function replace(from: string, to: string): void {
  copyFileSync(from, `${to}.new`);
  renameSync(`${to}.new`, to);
}

describe('xds-relay reloads its upstream TLS files', () => {
  let first: TestPki;
  let second: TestPki;
  let origins: { server: XdsServer; address: string }[] = [];
  let relay: RelayCommand;
  let files: { ca: string; cert: string; key: string };
  let client: XdsTestClient | undefined;

  before(async () => {
    first = createTestPki('first-ca');
    second = createTestPki('second-ca');
    origins = [
      await mutualTlsOrigin(first, originSnapshot()),
      await mutualTlsOrigin(second, Snapshot.create([makeCluster({ name: 'from-second' })])),
    ];
    const relayCert = first.issue({ name: 'relay' });
    files = {
      ca: join(first.dir, 'upstream-ca.pem'),
      cert: join(first.dir, 'upstream.crt'),
      key: join(first.dir, 'upstream.key'),
    };
    replace(first.ca.certFile, files.ca);
    replace(relayCert.certFile, files.cert);
    replace(relayCert.keyFile, files.key);
    relay = await startRelayCommand([
      '--upstream',
      origins.map((o) => o.address).join(','),
      '--upstream-ca',
      files.ca,
      '--upstream-cert',
      files.cert,
      '--upstream-key',
      files.key,
      '--xds',
      '127.0.0.1:0',
      '--admin',
      '127.0.0.1:0',
    ]);
  });

  after(async () => {
    await client?.close();
    if (relay?.child.exitCode === null) relay.child.kill('SIGKILL');
    await Promise.all(origins.map((o) => o.server.close()));
    first?.remove();
    second?.remove();
  });

  it('a new upstream connection uses the rewritten CA, certificate and key', async () => {
    const started = relay.logs().find((line) => line['xdsSecurity'] !== undefined) ?? {};
    client = new XdsTestClient({ address: String(started['xds']), node: 'n1', timeoutMs: 30_000 });
    client.subscribe(TypeUrl.Cluster, ['*']);
    await client.waitFor(TypeUrl.Cluster, (_r, state) => state.resources.has('c2'));

    // the second CA's files: the relay logs the reload (each file is replaced whole, one after the other)
    const relayCert = second.issue({ name: 'relay' });
    replace(relayCert.keyFile, files.key);
    replace(relayCert.certFile, files.cert);
    replace(second.ca.certFile, files.ca);
    const deadline = Date.now() + 30_000;
    while (!relay.output().includes('upstream TLS files reloaded')) {
      assert.ok(Date.now() < deadline, `no reload logged:\n${relay.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // the first origin goes away: the relay's new connection goes to the second, which trusts only the second CA
    await origins[0]?.server.close();
    await client.waitFor(TypeUrl.Cluster, (_r, state) => state.resources.has('from-second'));
  });

  it('files that do not make a usable pair are not reloaded: the previous ones stay, with a warning naming them', () => {
    const tls = new UpstreamTls({ upstreamCa: files.ca, upstreamCert: files.cert, upstreamKey: files.key });
    const failures: string[] = [];
    tls.on('reloadFailed', ({ message }) => failures.push(message));
    const other = second.issue({ name: 'other' });
    replace(other.keyFile, files.key);
    assert.equal(tls.reload(), false);
    assert.match(failures[0] ?? '', /--upstream-cert .* and --upstream-key .* are not usable together/);
    writeFileSync(`${files.key}.tmp`, 'not a key');
    replace(`${files.key}.tmp`, files.key);
    assert.equal(tls.reload(), false);
    assert.match(failures[1] ?? '', /holds no PEM block/);
  });
});
