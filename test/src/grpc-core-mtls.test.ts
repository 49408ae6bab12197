// Mutual TLS and node identity (rule L6) with a real non-JavaScript client: gRPC C-core, as Debian's python3-grpcio
// ships it, opens an ADS stream with a client certificate (test/python/ads_client.py) against @xds/server set up as
// `xds-server --tls-cert … --tls-key … --tls-client-ca … --trust-domain cluster.local` sets it up. C-core's own xDS
// resolver cannot present a client certificate to its control plane in this version (its bootstrap knows only the
// `insecure`, `google_default` and `fake` channel credentials: docs/security-tls.md), so the script drives C-core's
// TLS transport directly. scripts/python/grpcio.sh installs the package when it is missing (apt-get) and fails
// clearly when it cannot: this test never skips.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { SnapshotCache } from '@xds/cache';
import { type AckEvent, peerIdentityOf, XdsServer } from '@xds/server';
import { createTestPki, type TestCertificate, type TestPki } from '@xds/testing';
import { echoSnapshot, target } from './support/echo-config.js';
import { provisionPython, runPythonScript } from './support/python.js';

/** An Istio sidecar's node id in namespace `default`, as Envoy and Istio's agent write it. */
const nodeId = 'sidecar~10.1.2.3~productpage-v1-6b746f74dc-9stvs.default~default.svc.cluster.local';

/** What ads_client.py prints. */
interface AdsResult {
  readonly grpcVersion: string;
  readonly ok: boolean;
  readonly code: string;
  readonly details?: string;
  readonly responses: readonly {
    readonly typeUrl: string;
    readonly versionInfo: string;
    readonly resources: readonly { readonly typeUrl: string; readonly name: string }[];
  }[];
}

describe('gRPC C-core (python3-grpcio) against @xds/server over mutual TLS with node identity', () => {
  const cache = new SnapshotCache();
  const acks: AckEvent[] = [];
  const identities: (string | undefined)[] = [];
  let pki: TestPki;
  let server: XdsServer;
  let address: string;

  /** Runs one ADS exchange asking for the echo listener and cluster, as `cert` (none: no client certificate). */
  const ads = (cert: TestCertificate | undefined): Promise<AdsResult> =>
    runPythonScript<AdsResult>(
      'ads_client.py',
      [
        '--address',
        address,
        '--ca',
        pki.ca.certFile,
        '--node',
        nodeId,
        '--ask',
        `${TypeUrl.Cluster}=v1`,
        '--ask',
        `${TypeUrl.Listener}=${target}`,
        '--timeout',
        '60',
        ...(cert === undefined ? [] : ['--cert', cert.certFile, '--key', cert.keyFile]),
      ],
      process.env,
      90_000,
    );

  before(async () => {
    provisionPython();
    pki = createTestPki();
    const serverCert = pki.issue({ name: 'xds-server', ips: ['127.0.0.1'] });
    cache.setSnapshot(nodeId, echoSnapshot({ v1: 1 }, { v1: 1 }));
    // The options xds-server's --tls-client-ca and --trust-domain cluster.local give (packages/reference-server bin).
    server = new XdsServer({
      cache,
      closeGraceMs: 500,
      nodeIdentity: { trustDomains: ['cluster.local'], istio: true },
      authorize: (_node, call) => {
        identities.push(peerIdentityOf(call)?.spiffe?.uri);
        return true;
      },
    });
    server.on('ack', (event) => acks.push(event));
    const port = await server.listen('127.0.0.1:0', {
      tls: {
        cert: serverCert.certFile,
        key: serverCert.keyFile,
        ca: pki.ca.certFile,
        requireClientCert: true,
      },
    });
    address = `127.0.0.1:${port}`;
  });

  after(async () => {
    await server?.close();
    pki?.remove();
  });

  it('L6: a certificate of the node namespace gets the Listener and Cluster it asked for, and ACKs them', async () => {
    const cert = pki.issue({
      name: 'productpage',
      uris: ['spiffe://cluster.local/ns/default/sa/bookinfo-productpage'],
    });
    const result = await ads(cert);
    assert.equal(result.code, 'OK', result.details);
    assert.match(result.grpcVersion, /^\d+\.\d+\.\d+/);
    const names = Object.fromEntries(
      result.responses.map((response) => [response.typeUrl, response.resources.map((r) => r.name)]),
    );
    assert.deepEqual(names, { [TypeUrl.Cluster]: ['v1'], [TypeUrl.Listener]: [target] });
    for (const response of result.responses)
      for (const resource of response.resources) assert.equal(resource.typeUrl, response.typeUrl);
    assert.deepEqual(identities, ['spiffe://cluster.local/ns/default/sa/bookinfo-productpage']);
    assert.deepEqual(
      acks
        .filter((ack) => ack.nodeId === nodeId)
        .map((ack) => ack.typeUrl)
        .sort(),
      [TypeUrl.Cluster, TypeUrl.Listener].sort(),
      'the server saw C-core ACK both responses',
    );
  });

  it('L6: a certificate of another namespace is PERMISSION_DENIED naming the certificate and the node', async () => {
    const cert = pki.issue({ name: 'intruder', uris: ['spiffe://cluster.local/ns/other/sa/intruder'] });
    const result = await ads(cert);
    assert.equal(result.code, 'PERMISSION_DENIED');
    assert.ok(result.details?.includes('spiffe://cluster.local/ns/other/sa/intruder'), result.details);
    assert.ok(result.details?.includes(`"${nodeId}"`), result.details);
    assert.deepEqual(result.responses, [], 'nothing was sent');
  });

  it('L6: a certificate of another trust domain is PERMISSION_DENIED, whatever its namespace', async () => {
    const cert = pki.issue({ name: 'elsewhere', uris: ['spiffe://other.example/ns/default/sa/productpage'] });
    const result = await ads(cert);
    assert.equal(result.code, 'PERMISSION_DENIED');
    assert.ok(result.details?.includes('spiffe://other.example/ns/default/sa/productpage'), result.details);
    assert.deepEqual(result.responses, []);
  });

  it('L6: no client certificate, or one from another CA, fails the TLS handshake: UNAVAILABLE, nothing sent', async () => {
    const stranger = createTestPki('stranger-ca');
    try {
      const foreign = stranger.issue({
        name: 'foreign',
        uris: ['spiffe://cluster.local/ns/default/sa/bookinfo-productpage'],
      });
      for (const cert of [undefined, foreign]) {
        const before = identities.length;
        const result = await ads(cert);
        assert.equal(result.code, 'UNAVAILABLE', `${cert?.certFile ?? 'no certificate'}: ${result.details}`);
        assert.deepEqual(result.responses, []);
        assert.equal(identities.length, before, 'authorization was never reached');
      }
    } finally {
      stranger.remove();
    }
  });
});
