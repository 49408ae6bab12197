import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { credentials } from '@grpc/grpc-js';
import { TypeUrl } from '@xds/api';
import { XdsServer } from '@xds/server';
import { createTestPki } from '@xds/testing';
import { XdsClient } from './index.js';
import { nextEvent, sampleCache } from './test-support.js';

describe('XdsClient over TLS', () => {
  const pki = createTestPki();
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
    pki.remove();
  });

  it('connects with grpc-js channel credentials (mutual TLS) and gets its resources', async () => {
    const cert = pki.issue({ name: 'xds', ips: ['127.0.0.1'] });
    const me = pki.issue({ name: 'n1', uris: ['spiffe://cluster.local/ns/default/sa/n1'] });
    const server = new XdsServer({ cache: sampleCache(), closeGraceMs: 200 });
    closers.push(() => server.close());
    const port = await server.listen('127.0.0.1:0', {
      tls: { cert: cert.certFile, key: cert.keyFile, ca: pki.ca.certFile },
    });
    const client = new XdsClient({
      servers: [`127.0.0.1:${port}`],
      node: 'n1',
      credentials: credentials.createSsl(pki.ca.cert, me.key, me.cert),
    });
    closers.push(() => client.close());
    const updated = nextEvent(client, 'update');
    client.watch(TypeUrl.Cluster, '*', () => {});
    assert.deepEqual([...(await updated).updated].sort(), ['c1', 'c2']);

    // Without a client certificate the server refuses the stream, and the client says so.
    const plain = new XdsClient({
      servers: [`127.0.0.1:${port}`],
      node: 'n2',
      credentials: credentials.createSsl(pki.ca.cert),
      backoff: { initialMs: 1000 },
    });
    closers.push(() => plain.close());
    const refused = nextEvent(plain, 'disconnected');
    plain.watch(TypeUrl.Cluster, '*', () => {});
    assert.notEqual((await refused).code, 0);
    assert.equal(plain.resources(TypeUrl.Cluster).size, 0);
  });
});
