// Node identity on the relay (rule L6), end to end through the `xds-relay` command with real mutual TLS: with
// --trust-domain a downstream certificate may only claim the Istio node ids of its own namespace, and CSDS (every
// downstream node's configuration) is refused to proxies on the xDS port.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { TypeUrl } from '@xds/api';
import { createSecureProcessSetup, type SecureProcessSetup, type TestCertificate } from '@xds/testing';
import { relayStatusRefusal } from './relay-identity.js';
import { fetchClientStatus } from './test-csds.js';
import {
  localRelayArgs,
  type Origin,
  type RelayCommand,
  startedLine,
  startOrigin,
  startRelayCommand,
} from './test-support.js';

const istioNode = (pod: string, namespace: string) =>
  `sidecar~127.0.0.1~${pod}.${namespace}~${namespace}.svc.cluster.local`;

describe('xds-relay --trust-domain: node identity and CSDS under mutual TLS', () => {
  let setup: SecureProcessSetup;
  let origin: Origin;
  let relay: RelayCommand;
  let tenantA: TestCertificate;
  let intruder: TestCertificate;

  before(async () => {
    setup = createSecureProcessSetup({ token: 'relay-admin-token-0123456789', serverName: 'relay' });
    tenantA = setup.pki.issue({ name: 'a', uris: ['spiffe://cluster.local/ns/a/sa/a'] });
    intruder = setup.pki.issue({ name: 'b', uris: ['spiffe://cluster.local/ns/b/sa/intruder'] });
    origin = await startOrigin();
    relay = await startRelayCommand(
      localRelayArgs(origin.address, ...setup.flags(), '--trust-domain', 'cluster.local'),
    );
  });

  after(async () => {
    if (relay?.child.exitCode === null) relay.child.kill('SIGKILL');
    await origin?.server.close();
    await setup?.close();
  });

  const started = () => startedLine(relay);
  const xds = () => String(started()['xds']);

  it('logs the trust domain it checks', () => {
    assert.equal(started()['xdsSecurity'], 'mutual TLS');
    assert.equal(started()['trustDomain'], 'cluster.local');
  });

  it('L6: a certificate of namespace a claiming an Istio node of namespace a is served the origin clusters', async () => {
    const c = setup.client({ address: xds(), node: istioNode('a-1', 'a'), timeoutMs: 30_000 }, tenantA);
    c.subscribe(TypeUrl.Cluster, ['*']);
    await c.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.size === 2);
    assert.deepEqual([...c.resources(TypeUrl.Cluster).keys()].sort(), ['c1', 'c2']);
  });

  it("L6: a certificate of namespace b claiming a's node is PERMISSION_DENIED naming both, and gets nothing", async () => {
    const node = istioNode('a-1', 'a');
    const c = setup.client({ address: xds(), node, timeoutMs: 30_000 }, intruder);
    c.subscribe(TypeUrl.Cluster, ['*']);
    // Before --trust-domain the relay served the claim: the race then ends 'served' and the test fails at once.
    const end = await Promise.race([
      c.ended(),
      c.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.size > 0).then(() => 'served' as const),
    ]);
    assert.notEqual(end, 'served', "the intruder was served a's clusters");
    if (end === 'served') return;
    assert.equal(end.code, status.PERMISSION_DENIED);
    assert.ok(end.details.includes('spiffe://cluster.local/ns/b/sa/intruder'), end.details);
    assert.ok(end.details.includes(node), end.details);
    assert.equal(c.resources(TypeUrl.Cluster).size, 0);
  });

  it('L6: CSDS is refused to a proxy certificate, even one the relay serves, naming why', async () => {
    for (const cert of [tenantA, intruder]) {
      const answer = await fetchClientStatus(xds(), setup.pki.ca.cert, cert);
      assert.equal(answer.code, status.PERMISSION_DENIED);
      assert.equal(answer.details, relayStatusRefusal);
      assert.deepEqual(answer.nodes, []);
    }
  });
});

describe('xds-relay --trust-domain --group-by metadata:NAMESPACE', () => {
  let setup: SecureProcessSetup;
  let origin: Origin;
  let relay: RelayCommand;
  let tenantA: TestCertificate;
  let tenantB: TestCertificate;

  before(async () => {
    setup = createSecureProcessSetup({ token: 'relay-admin-token-0123456789', serverName: 'relay' });
    tenantA = setup.pki.issue({ name: 'a', uris: ['spiffe://cluster.local/ns/a/sa/a'] });
    tenantB = setup.pki.issue({ name: 'b', uris: ['spiffe://cluster.local/ns/b/sa/b'] });
    origin = await startOrigin();
    relay = await startRelayCommand(
      localRelayArgs(
        origin.address,
        ...setup.flags(),
        '--trust-domain',
        'cluster.local',
        '--group-by',
        'metadata:NAMESPACE',
      ),
    );
  });

  after(async () => {
    if (relay?.child.exitCode === null) relay.child.kill('SIGKILL');
    await origin?.server.close();
    await setup?.close();
  });

  const xds = () => String(startedLine(relay)['xds']);

  it('L6: a node without NAMESPACE metadata is refused, INVALID_ARGUMENT naming the field; with it, it is served', async () => {
    // Before the fix, nodes of namespaces a and b without the metadata shared the group "" (probe4 F8).
    for (const [pod, namespace, cert] of [
      ['a-1', 'a', tenantA],
      ['b-1', 'b', tenantB],
    ] as const) {
      const bare = setup.client({ address: xds(), node: istioNode(pod, namespace), timeoutMs: 30_000 }, cert);
      bare.subscribe(TypeUrl.Cluster, ['*']);
      const end = await Promise.race([
        bare.ended(),
        bare.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.size > 0).then(() => 'served' as const),
      ]);
      assert.notEqual(end, 'served', `namespace ${namespace} without NAMESPACE metadata was served`);
      if (end === 'served') return;
      assert.equal(end.code, status.INVALID_ARGUMENT);
      assert.ok(end.details.includes('node.metadata["NAMESPACE"]'), end.details);
    }
    const named = setup.client(
      {
        address: xds(),
        node: { id: istioNode('a-2', 'a'), metadata: { NAMESPACE: 'a' } },
        timeoutMs: 30_000,
      },
      tenantA,
    );
    named.subscribe(TypeUrl.Cluster, ['*']);
    await named.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.size === 2);
  });
});
