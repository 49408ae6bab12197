// Interop over TLS with gRPC C-core's own xDS client: the xds resolver of Debian's python3-grpcio takes its config
// from @xds/server over TLS, with the bootstrap users copy (examples/grpc/bootstrap-tls.json: `channel_creds:
// google_default`, roots from GRPC_DEFAULT_SSL_ROOTS_FILE_PATH), and routes a real RPC with it
// (test/python/xds_call.py). With roots that do not verify the server's certificate, it gets nothing.
// First, before grpc-js loads: the environment google_default needs (a throwaway service-account key, no metadata
// server), inherited by the Python child.
import './support/tls-env.js';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { SnapshotCache } from '@xds/cache';
import { type AckEvent, XdsServer } from '@xds/server';
import { createTestPki, type TestPki } from '@xds/testing';
import { type Backend, startBackend, whichPath } from './support/backend.js';
import { exampleGrpcBootstrap } from './support/bootstrap.js';
import { echoSnapshot, target } from './support/echo-config.js';
import { provisionPython, runPythonScript } from './support/python.js';
import { removeTlsEnv, rootsFile } from './support/tls-env.js';

const nodeId = 'interop-core-tls-client';

/** What xds_call.py prints. */
interface CallResult {
  readonly grpcVersion: string;
  readonly code: string;
  readonly value?: string;
  readonly details?: string;
}

describe('gRPC C-core xds resolver (python3-grpcio) against @xds/server over TLS', () => {
  const cache = new SnapshotCache();
  const acks: AckEvent[] = [];
  let streams = 0;
  let pki: TestPki;
  let server: XdsServer;
  let backend: Backend;
  let bootstrap: string;

  const call = (roots: string, waitForReady: boolean, timeoutSeconds: number) =>
    runPythonScript<CallResult>(
      'xds_call.py',
      [
        '--target',
        `xds:///${target}`,
        '--method',
        whichPath,
        '--timeout',
        String(timeoutSeconds),
        ...(waitForReady ? ['--wait-for-ready'] : []),
      ],
      { ...process.env, GRPC_XDS_BOOTSTRAP_CONFIG: bootstrap, GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: roots },
      (timeoutSeconds + 30) * 1000,
    );

  before(async () => {
    provisionPython();
    pki = createTestPki();
    const cert = pki.issue({ name: 'xds-server', ips: ['127.0.0.1'] });
    copyFileSync(pki.ca.certFile, rootsFile);
    backend = await startBackend('v1');
    // Weight 100: C-core 1.51 reads an unset weighted_clusters.total_weight as 100 and NACKs other sums.
    cache.setSnapshot(nodeId, echoSnapshot({ v1: backend.port }, { v1: 100 }));
    server = new XdsServer({ cache, closeGraceMs: 500 });
    server.on('ack', (event) => acks.push(event));
    server.on('streamOpen', () => streams++);
    const port = await server.listen('127.0.0.1:0', { tls: { cert: cert.certFile, key: cert.keyFile } });
    bootstrap = JSON.stringify(exampleGrpcBootstrap(port, nodeId, 'bootstrap-tls.json'));
  });

  after(async () => {
    await server?.close();
    await backend?.close();
    pki?.remove();
    removeTlsEnv();
  });

  it('gets its listener, route, cluster and endpoints over TLS, ACKs them and routes a real RPC with them', async () => {
    const result = await call(rootsFile, true, 60);
    assert.equal(result.code, 'OK', result.details);
    assert.equal(result.value, 'v1');
    assert.equal(backend.calls, 1);
    const acked = new Set(acks.filter((ack) => ack.nodeId === nodeId).map((ack) => ack.typeUrl));
    assert.deepEqual(
      [...acked].sort(),
      [TypeUrl.Listener, TypeUrl.Route, TypeUrl.Cluster, TypeUrl.Endpoint].sort(),
    );
  });

  it('gets nothing when its roots do not verify the server certificate: the call fails UNAVAILABLE', async () => {
    const stranger = createTestPki('stranger-ca');
    try {
      const before = { streams, calls: backend.calls };
      const result = await call(stranger.ca.certFile, false, 15);
      assert.equal(result.code, 'UNAVAILABLE', result.details);
      assert.equal(streams, before.streams, 'no xDS stream was opened: the handshake failed');
      assert.equal(backend.calls, before.calls);
    } finally {
      stranger.remove();
    }
  });
});
