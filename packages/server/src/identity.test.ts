import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { Client, type ServiceError, status } from '@grpc/grpc-js';
import {
  type DiscoveryRequest,
  DiscoveryRequestSchema,
  DiscoveryResponseSchema,
  NodeSchema,
  TypeUrl,
} from '@xds/api';
import { Snapshot, SnapshotCache } from '@xds/cache';
import {
  createTestPki,
  type TestCertificate,
  type TestPki,
  tlsCredentials,
  XdsTestClient,
} from '@xds/testing';
import {
  composeAuthorize,
  istioNodeNamespace,
  matchesWildcard,
  parseSpiffeId,
  parseSubjectAltNames,
} from './identity.js';
import { csdsClient, forNodes } from './test-csds-client.js';
import { cluster } from './test-harness.js';
import { XdsServer } from './xds-server.js';

const nodeA = 'sidecar~10.0.0.1~web-7d9f.team-a~team-a.svc.cluster.local';
const nodeB = 'sidecar~10.0.0.2~db-5c4b.team-b~team-b.svc.cluster.local';

describe('node identity: parsing', () => {
  it('splits subjectaltname text, JSON-quoted values included', () => {
    assert.deepEqual(
      parseSubjectAltNames('DNS:a.example, URI:spiffe://td/ns/x/sa/y, IP Address:127.0.0.1, DNS:"b, c\\"d"'),
      [
        { type: 'DNS', value: 'a.example' },
        { type: 'URI', value: 'spiffe://td/ns/x/sa/y' },
        { type: 'IP Address', value: '127.0.0.1' },
        { type: 'DNS', value: 'b, c"d' },
      ],
    );
    assert.deepEqual(parseSubjectAltNames(''), []);
  });

  it('L6: text not in the form Node writes is refused whole, not read up to the fault', () => {
    // Each would otherwise yield the first SPIFFE ID and drop what follows (a second ID makes an SVID untrusted).
    for (const bad of [
      'URI:spiffe://td/ns/a/sa/x, DNS:"unterminated, URI:spiffe://td/ns/b/sa/y',
      'URI:spiffe://td/ns/a/sa/x, DNS:"bad \\q escape", URI:spiffe://td/ns/b/sa/y',
      'URI:spiffe://td/ns/a/sa/x, DNS:"a"junk, URI:spiffe://td/ns/b/sa/y',
      'URI:spiffe://td/ns/a/sa/x, no type here',
    ])
      assert.equal(parseSubjectAltNames(bad), undefined, bad);
  });

  it('parses SPIFFE IDs and refuses malformed ones', () => {
    const id = parseSpiffeId('spiffe://cluster.local/ns/team-a/sa/web');
    assert.equal(id?.trustDomain, 'cluster.local');
    assert.equal(id?.namespace, 'team-a');
    assert.equal(id?.serviceAccount, 'web');
    assert.equal(parseSpiffeId('spiffe://cluster.local/workload/x')?.namespace, undefined);
    for (const bad of [
      'https://cluster.local/ns/a/sa/b',
      'spiffe://Cluster.Local/ns/a/sa/b',
      'spiffe://td/ns/../sa/b',
      'spiffe://td/ns//sa/b',
      'spiffe://td:8080/ns/a/sa/b',
    ])
      assert.equal(parseSpiffeId(bad), undefined, bad);
  });

  it('reads the namespace of an Istio node id, and refuses ids that name none or two', () => {
    const node = (id: string, namespace?: string) =>
      create(NodeSchema, { id, ...(namespace === undefined ? {} : { metadata: { NAMESPACE: namespace } }) });
    assert.deepEqual(istioNodeNamespace(node(nodeA)), { namespace: 'team-a' });
    assert.deepEqual(istioNodeNamespace(node(nodeA, 'team-a')), { namespace: 'team-a' });
    assert.match(istioNodeNamespace(node(nodeA, 'team-b')) as string, /NAMESPACE "team-b" disagrees/);
    assert.match(istioNodeNamespace(node('web-1')) as string, /not an Istio node id/);
    assert.match(
      istioNodeNamespace(node('sidecar~1~web.team-a~team-b.svc.cluster.local')) as string,
      /two namespaces/,
    );
  });

  it('matches * wildcards literally otherwise, in linear time on hostile input', () => {
    assert.ok(matchesWildcard('gateway-*', 'gateway-eu-1'));
    assert.ok(matchesWildcard('*.svc.*', 'a.svc.cluster.local'));
    assert.ok(!matchesWildcard('gateway-*', 'gateway'));
    assert.ok(!matchesWildcard('a.c', 'abc'), 'a dot is a dot');
    assert.ok(matchesWildcard('*', ''));
    const hostile = `${'a'.repeat(4000)}b`;
    assert.ok(!matchesWildcard('*a*a*a*a*a*a*a*c', hostile));
  });

  it('composes steps in order; the first refusal decides', async () => {
    const seen: string[] = [];
    const step = (name: string, verdict: boolean | Promise<boolean>) => () => {
      seen.push(name);
      return verdict;
    };
    const node = create(NodeSchema, { id: 'n' });
    assert.equal(composeAuthorize(undefined, undefined), undefined);
    assert.equal(
      await composeAuthorize(step('a', true), step('b', Promise.resolve(false)), step('c', true))!(
        node,
        undefined,
      ),
      false,
    );
    assert.deepEqual(seen, ['a', 'b']);
  });
});

/** Unary FetchClusters on a grpc-js client. */
function fetchClusters(client: Client, nodeId: string): Promise<number> {
  const body: DiscoveryRequest = create(DiscoveryRequestSchema, { node: { id: nodeId } });
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      '/envoy.service.cluster.v3.ClusterDiscoveryService/FetchClusters',
      (b: Buffer) => b,
      (b: Buffer) => fromBinary(DiscoveryResponseSchema, b),
      Buffer.from(toBinary(DiscoveryRequestSchema, body)),
      (error: ServiceError | null, value) => (error ? reject(error) : resolve(value!.resources.length)),
    );
  });
}

function restPost(port: number, nodeId: string): Promise<{ status: number; body: string }> {
  const body = JSON.stringify({ node: { id: nodeId } });
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path: '/v3/discovery:clusters' },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('node identity over mutual TLS', () => {
  let pki: TestPki;
  let server: XdsServer;
  let port: number;
  let restPort: number;
  let teamA: TestCertificate;
  let otherDomain: TestCertificate;
  let gateway: TestCertificate;
  let crowded: TestCertificate;
  const clients: XdsTestClient[] = [];
  const grpcClients: Client[] = [];

  before(async () => {
    pki = createTestPki();
    const serverCert = pki.issue({ name: 'server', dns: ['localhost'], ips: ['127.0.0.1'] });
    teamA = pki.issue({ name: 'team-a', uris: ['spiffe://cluster.local/ns/team-a/sa/web'] });
    otherDomain = pki.issue({ name: 'other', uris: ['spiffe://elsewhere.example/ns/team-a/sa/web'] });
    gateway = pki.issue({ name: 'gateway', dns: ['gw-1.mesh.example'] });
    // The granted name first, then more than 16 KiB of other names.
    const filler = Array.from({ length: 700 }, (_, i) => `filler-${String(i).padStart(4, '0')}.example.org`);
    crowded = pki.issue({ name: 'crowded', dns: ['gw-1.mesh.example', ...filler] });
    const cache = new SnapshotCache();
    cache.setSnapshot(nodeA, Snapshot.create([cluster('a-only')]));
    cache.setSnapshot(nodeB, Snapshot.create([cluster('b-only'), cluster('b-two')]));
    cache.setSnapshot('gateway-eu', Snapshot.create([cluster('gw')]));
    server = new XdsServer({
      cache,
      closeGraceMs: 500,
      nodeIdentity: {
        trustDomains: ['cluster.local'],
        grants: [{ identity: '*.mesh.example', nodes: ['gateway-*'] }],
      },
    });
    port = await server.listen('127.0.0.1:0', {
      // Client certificates are asked for but not required, so that calls without one reach the check.
      tls: { cert: serverCert.cert, key: serverCert.key, ca: pki.ca.cert, requireClientCert: false },
    });
    restPort = await server.listenRest('127.0.0.1:0');
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    for (const c of grpcClients) c.close();
    await server?.close();
    pki?.remove();
  });

  const creds = (cert?: TestCertificate) => tlsCredentials(pki.ca.cert, cert);

  function client(node: string, cert?: TestCertificate): XdsTestClient {
    const c = new XdsTestClient({ address: `127.0.0.1:${port}`, node, credentials: creds(cert) });
    clients.push(c);
    c.subscribe(TypeUrl.Cluster, []);
    return c;
  }

  function grpcClient(cert?: TestCertificate): Client {
    const c = new Client(`127.0.0.1:${port}`, creds(cert));
    grpcClients.push(c);
    return c;
  }

  it("L6: a SPIFFE ID claims a node of its own namespace and receives only that node's snapshot", async () => {
    const a = client(nodeA, teamA);
    const response = await a.next(TypeUrl.Cluster);
    assert.deepEqual([...a.resources(TypeUrl.Cluster).keys()], ['a-only']);
    assert.equal(response.resources.length, 1);
    assert.equal(await fetchClusters(grpcClient(teamA), nodeA), 1);
  });

  it('L6: claiming a node of another namespace ends the stream with PERMISSION_DENIED naming both', async () => {
    const b = client(nodeB, teamA);
    const end = await b.ended();
    assert.equal(end.code, status.PERMISSION_DENIED);
    assert.ok(end.details.includes('spiffe://cluster.local/ns/team-a/sa/web'), end.details);
    assert.ok(end.details.includes(nodeB), end.details);
    assert.match(end.details, /namespace is "team-b", the certificate's is "team-a"/);
    assert.equal(b.responses().length, 0, 'nothing of team-b was sent');
  });

  it('L6: Fetch is checked the same way', async () => {
    await assert.rejects(fetchClusters(grpcClient(teamA), nodeB), (error: ServiceError) => {
      assert.equal(error.code, status.PERMISSION_DENIED);
      assert.match(error.details, /spiffe:\/\/cluster\.local\/ns\/team-a\/sa\/web may not claim node/);
      return true;
    });
  });

  it('L6: no client certificate, a foreign trust domain, or no grant: PERMISSION_DENIED', async () => {
    const anonymous = await client(nodeA).ended();
    assert.equal(anonymous.code, status.PERMISSION_DENIED);
    assert.match(anonymous.details, /presented no verified client certificate/);

    const foreign = await client(nodeA, otherDomain).ended();
    assert.equal(foreign.code, status.PERMISSION_DENIED);
    assert.match(foreign.details, /trust domain "elsewhere\.example" is not one of cluster\.local/);

    const ungranted = await client('web-1', teamA).ended();
    assert.equal(ungranted.code, status.PERMISSION_DENIED);
    assert.match(ungranted.details, /not an Istio node id.*no grant gives it this node id/);
  });

  it('L6: a DNS SAN grant admits the node ids it names, and only those', async () => {
    const gw = client('gateway-eu', gateway);
    await gw.next(TypeUrl.Cluster);
    assert.deepEqual([...gw.resources(TypeUrl.Cluster).keys()], ['gw']);
    const end = await client(nodeA, gateway).ended();
    assert.equal(end.code, status.PERMISSION_DENIED);
    assert.match(end.details, /certificate identity DNS:gw-1\.mesh\.example may not claim node/);
  });

  it('L6: a certificate with more than 16 KiB of SANs grants nothing, though its first name would', async () => {
    // Before, the SAN text was cut at 16 KiB and the cut parsed: the granted name in front still counted.
    const c = client('gateway-eu', crowded);
    const end = await Promise.race([c.ended(), c.next(TypeUrl.Cluster).then(() => undefined)]);
    assert.ok(end !== undefined, 'the crowded certificate was granted the gateway node');
    assert.equal(end.code, status.PERMISSION_DENIED);
    assert.match(end.details, /subject alternative names are \d+ characters, over 16384/);
    assert.match(end.details, /grants nothing/);
  });

  it('L6: CSDS is refused to a certificate that may claim a node: nodeIdentity grants no one the status of all', async () => {
    // A node's certificate is a proxy's credential; reading every node's status is an operator's right, which only
    // XdsServerOptions.authorizeStatus grants (audit F9).
    const a = client(nodeA, teamA);
    await a.next(TypeUrl.Cluster);
    const csds = csdsClient(`127.0.0.1:${port}`, 10_000, creds(teamA));
    try {
      await assert.rejects(csds.fetch(forNodes(nodeA, nodeB)), (error: ServiceError) => {
        assert.equal(error.code, status.PERMISSION_DENIED);
        assert.match(error.details, /client status \(CSDS\) is refused/);
        assert.match(error.details, /authorizeStatus/);
        return true;
      });
    } finally {
      csds.close();
    }
  });

  it('L6: REST (no client certificate on plain HTTP) is refused with 403', async () => {
    const response = await restPost(restPort, nodeA);
    assert.equal(response.status, 403);
    assert.match(response.body, /presented no verified client certificate/);
  });
});
