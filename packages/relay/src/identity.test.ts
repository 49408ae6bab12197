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

/** The service accounts the suites' certificates are issued for: a of namespace a; b and intruder of namespace b. */
const serviceAccounts = {
  a: 'spiffe://cluster.local/ns/a/sa/a',
  b: 'spiffe://cluster.local/ns/b/sa/b',
  intruder: 'spiffe://cluster.local/ns/b/sa/intruder',
} as const;
type Account = keyof typeof serviceAccounts;

/** An origin and an `xds-relay` under mutual TLS with --trust-domain in front of it, and certificates to call it. */
interface TrustDomainRelay {
  readonly setup: SecureProcessSetup;
  readonly relay: RelayCommand;
  /** The client certificate of a service account. */
  cert(account: Account): TestCertificate;
}

/**
 * Starts an origin and `xds-relay --trust-domain cluster.local MORE` (mutual TLS, admin token) before the calling
 * suite's tests, and stops them after; call it in a `describe`.
 */
function trustDomainRelay(...more: string[]): TrustDomainRelay {
  const held: {
    setup?: SecureProcessSetup;
    origin?: Origin;
    relay?: RelayCommand;
    certs?: Record<Account, TestCertificate>;
  } = {};
  before(async () => {
    const setup = createSecureProcessSetup({ token: 'relay-admin-token-0123456789', serverName: 'relay' });
    held.setup = setup;
    held.certs = {
      a: setup.pki.issue({ name: 'a', uris: [serviceAccounts.a] }),
      b: setup.pki.issue({ name: 'b', uris: [serviceAccounts.b] }),
      intruder: setup.pki.issue({ name: 'intruder', uris: [serviceAccounts.intruder] }),
    };
    held.origin = await startOrigin();
    held.relay = await startRelayCommand(
      localRelayArgs(held.origin.address, ...setup.flags(), '--trust-domain', 'cluster.local', ...more),
    );
  });
  after(async () => {
    if (held.relay?.child.exitCode === null) held.relay.child.kill('SIGKILL');
    await held.origin?.server.close();
    await held.setup?.close();
  });
  const get = <K extends keyof typeof held>(key: K): NonNullable<(typeof held)[K]> => {
    const value = held[key];
    if (value === undefined) throw new Error(`the relay's ${key} is not started yet (used outside a test)`);
    return value as NonNullable<(typeof held)[K]>;
  };
  return {
    get setup() {
      return get('setup');
    },
    get relay() {
      return get('relay');
    },
    cert: (account) => get('certs')[account],
  };
}

describe('xds-relay --trust-domain: node identity and CSDS under mutual TLS', () => {
  const env = trustDomainRelay();

  const started = () => startedLine(env.relay);
  const xds = () => String(started()['xds']);

  it('logs the trust domain it checks', () => {
    assert.equal(started()['xdsSecurity'], 'mutual TLS');
    assert.equal(started()['trustDomain'], 'cluster.local');
  });

  it('L6: a certificate of namespace a claiming an Istio node of namespace a is served the origin clusters', async () => {
    const c = env.setup.client(
      { address: xds(), node: istioNode('a-1', 'a'), timeoutMs: 30_000 },
      env.cert('a'),
    );
    c.subscribe(TypeUrl.Cluster, ['*']);
    await c.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.size === 2);
    assert.deepEqual([...c.resources(TypeUrl.Cluster).keys()].sort(), ['c1', 'c2']);
  });

  it("L6: a certificate of namespace b claiming a's node is PERMISSION_DENIED naming both, and gets nothing", async () => {
    const node = istioNode('a-1', 'a');
    const c = env.setup.client({ address: xds(), node, timeoutMs: 30_000 }, env.cert('intruder'));
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
    for (const cert of [env.cert('a'), env.cert('intruder')]) {
      const answer = await fetchClientStatus(xds(), env.setup.pki.ca.cert, cert);
      assert.equal(answer.code, status.PERMISSION_DENIED);
      assert.equal(answer.details, relayStatusRefusal);
      assert.deepEqual(answer.nodes, []);
    }
  });
});

describe('xds-relay --trust-domain --group-by metadata:NAMESPACE', () => {
  const env = trustDomainRelay('--group-by', 'metadata:NAMESPACE');

  const xds = () => String(startedLine(env.relay)['xds']);

  it('L6: a node without NAMESPACE metadata is refused, INVALID_ARGUMENT naming the field; with it, it is served', async () => {
    // Before the fix, nodes of namespaces a and b without the metadata shared the group "" (probe4 F8).
    for (const [pod, namespace, account] of [
      ['a-1', 'a', 'a'],
      ['b-1', 'b', 'b'],
    ] as const) {
      const bare = env.setup.client(
        { address: xds(), node: istioNode(pod, namespace), timeoutMs: 30_000 },
        env.cert(account),
      );
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
    const named = env.setup.client(
      {
        address: xds(),
        node: { id: istioNode('a-2', 'a'), metadata: { NAMESPACE: 'a' } },
        timeoutMs: 30_000,
      },
      env.cert('a'),
    );
    named.subscribe(TypeUrl.Cluster, ['*']);
    await named.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.size === 2);
  });
});
