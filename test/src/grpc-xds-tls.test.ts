// Interop over TLS: a real @grpc/grpc-js-xds client takes its config from @xds/server over TLS (bootstrap
// examples/grpc/bootstrap-tls.json: `channel_creds: google_default`, roots from GRPC_DEFAULT_SSL_ROOTS_FILE_PATH)
// and routes a real RPC with it.
// grpc-js-xds 1.14 has no client certificates for its xDS channel (channel_creds types: insecure, google_default),
// so mutual TLS is proved with grpc-js's own channel credentials (XdsTestClient) in @xds/server's tests and with
// gRPC C-core in grpc-core-mtls.test.ts (docs/security-tls.md says what each client supports).
// First, before grpc-js loads: it reads GRPC_DEFAULT_SSL_ROOTS_FILE_PATH once, when it loads.
import './support/tls-env.js';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@grpc/grpc-js';
import { TypeUrl } from '@xds/api';
import { SnapshotCache } from '@xds/cache';
import { XdsServer } from '@xds/server';
import { createTestPki, until as poll, type TestPki } from '@xds/testing';
import { type Backend, channel, interopWaitMs, startBackend, which } from './support/backend.js';
import { useXdsServer } from './support/bootstrap.js';
import { echoSnapshot, target } from './support/echo-config.js';
import { removeTlsEnv, rootsFile } from './support/tls-env.js';

const nodeId = 'interop-tls-client';

describe('@grpc/grpc-js-xds against @xds/server over TLS', () => {
  const cache = new SnapshotCache();
  let pki: TestPki;
  let server: XdsServer;
  let backend: Backend;
  let client: Client;

  before(async () => {
    pki = createTestPki();
    const cert = pki.issue({ name: 'xds-server', ips: ['127.0.0.1'] });
    copyFileSync(pki.ca.certFile, rootsFile);
    backend = await startBackend('v1');
    cache.setSnapshot(nodeId, echoSnapshot({ v1: backend.port }, { v1: 1 }));
    // The server listens with TLS only: a plaintext connection gets no HTTP/2 session (see @xds/server's tls test).
    server = new XdsServer({ cache });
    const port = await server.listen('127.0.0.1:0', { tls: { cert: cert.certFile, key: cert.keyFile } });
    await useXdsServer(port, nodeId, 'bootstrap-tls.json');
    client = channel(`xds:///${target}`);
  });

  after(async () => {
    client?.close();
    await server?.close();
    await backend?.close();
    pki?.remove();
    removeTlsEnv();
  });

  it('gets its listener, route, cluster and endpoints over TLS and routes a real RPC with them', async () => {
    assert.equal(await which(client, interopWaitMs), 'v1');
    const info = () => server.clients().find((c) => c.nodeId === nodeId);
    assert.ok(info(), 'the client is connected');
    assert.match(info()!.node.userAgentName, /^gRPC/i);
    // The client's ACK of its last response may still be on its way when the RPC is answered.
    const types = [TypeUrl.Listener, TypeUrl.Route, TypeUrl.Cluster, TypeUrl.Endpoint];
    await poll(
      'every type SYNCED',
      () => types.every((t) => info()?.types[t]?.status === 'SYNCED'),
      interopWaitMs,
    );
  });
});
