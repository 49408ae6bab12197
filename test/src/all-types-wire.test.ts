// Every built-in resource type over the wire, SotW and delta, on ADS and on the type's own service, built with
// @xds/generator's builders: SRDS, SDS, RTDS, ECDS and VHDS next to CDS, EDS, LDS and RDS. A client decodes each
// response with the generated API (a resource that does not decode is NACKed by XdsTestClient), so this proves
// the builders' output and the server's handling of each type together.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { create, type Message } from '@bufbuild/protobuf';
import { type Runtime, type TypedExtensionConfig, TypeUrl, type VirtualHost } from '@xds/api';
import { HTTPFaultSchema } from '@xds/api/gen/envoy/extensions/filters/http/fault/v3/fault_pb';
import { Snapshot, SnapshotCache } from '@xds/cache';
import {
  makeCluster,
  makeExtensionConfig,
  makeHttpListener,
  makeRouteConfiguration,
  makeRuntime,
  makeScopedRouteConfiguration,
  makeScopedRoutesListener,
  makeSecret,
  makeTcpListener,
  makeVhdsRouteConfiguration,
  makeVhdsVirtualHost,
  vhdsName,
} from '@xds/generator';
import { loopbackAssignment, serveCacheForSuite, withClient } from './support/wire.js';

const nodeId = 'all-types';
const vhost = vhdsName('vhds-routes', 'app.example:80');

function snapshot(): Snapshot {
  return Snapshot.create([
    makeCluster({ name: 'app', tls: { caSecretName: 'ca', sni: 'app.example' } }),
    loopbackAssignment('app', 8080),
    makeHttpListener({
      name: 'https',
      address: '0.0.0.0',
      port: 8443,
      routeName: 'routes',
      tls: { certificateSecret: 'server-cert', validationSecret: 'ca', requireClientCertificate: true },
    }),
    makeTcpListener({ name: 'tcp', address: '0.0.0.0', port: 9000, cluster: 'app' }),
    makeScopedRoutesListener({
      name: 'scoped',
      address: '0.0.0.0',
      port: 8081,
      scopesName: 'scopes',
      keyHeader: 'x-tenant',
    }),
    makeRouteConfiguration({
      name: 'routes',
      virtualHosts: [{ name: 'app', domains: ['*'], routes: [{ match: { prefix: '/' }, cluster: 'app' }] }],
    }),
    makeVhdsRouteConfiguration('vhds-routes'),
    makeScopedRouteConfiguration({ name: 'tenant-a', routeConfigurationName: 'routes', key: ['a'] }),
    makeVhdsVirtualHost('vhds-routes', 'app.example:80', {
      routes: [{ match: { prefix: '/' }, cluster: 'app' }],
    }),
    makeSecret('server-cert', {
      certificateChain: { filename: '/etc/certs/cert.pem' },
      privateKey: { filename: '/etc/certs/key.pem' },
    }),
    makeSecret('ca', { trustedCa: { filename: '/etc/certs/ca.pem' } }),
    makeRuntime('layer-1', { 'envoy.reloadable_features.example': true, 'health_check.min_interval': 1000 }),
    makeExtensionConfig('fault', HTTPFaultSchema, create(HTTPFaultSchema, { maxActiveFaults: 3 })),
  ]);
}

/** Per type: the names to subscribe to, and a check of the decoded resource. */
const cases: {
  typeUrl: string;
  names: string[];
  check: (resources: ReadonlyMap<string, Message>) => void;
}[] = [
  { typeUrl: TypeUrl.Cluster, names: ['app'], check: (r) => assert.ok(r.has('app'), "r.has('app')") },
  { typeUrl: TypeUrl.Endpoint, names: ['app'], check: (r) => assert.ok(r.has('app'), "r.has('app')") },
  { typeUrl: TypeUrl.Listener, names: ['https', 'tcp', 'scoped'], check: (r) => assert.equal(r.size, 3) },
  { typeUrl: TypeUrl.Route, names: ['routes', 'vhds-routes'], check: (r) => assert.equal(r.size, 2) },
  {
    typeUrl: TypeUrl.ScopedRoute,
    names: ['tenant-a'],
    check: (r) => assert.ok(r.has('tenant-a'), "r.has('tenant-a')"),
  },
  {
    typeUrl: TypeUrl.VirtualHost,
    names: [vhost],
    check: (r) => assert.deepEqual((r.get(vhost) as VirtualHost).domains, ['app.example:80']),
  },
  { typeUrl: TypeUrl.Secret, names: ['server-cert', 'ca'], check: (r) => assert.equal(r.size, 2) },
  {
    typeUrl: TypeUrl.Runtime,
    names: ['layer-1'],
    check: (r) => {
      const layer = (r.get('layer-1') as Runtime).layer;
      assert.equal(layer?.['health_check.min_interval'], 1000);
    },
  },
  {
    typeUrl: TypeUrl.ExtensionConfig,
    names: ['fault'],
    check: (r) =>
      assert.equal((r.get('fault') as TypedExtensionConfig).typedConfig?.typeUrl.endsWith('HTTPFault'), true),
  },
];

describe('every built-in type over the wire', () => {
  const cache = new SnapshotCache();

  before(() => {
    const snap = snapshot();
    assert.deepEqual(snap.check(), [], 'the builders make a consistent snapshot (R2)');
    cache.setSnapshot(nodeId, snap);
  });
  const suite = serveCacheForSuite(cache);

  for (const protocol of ['sotw', 'delta'] as const) {
    for (const ads of [true, false]) {
      it(`S1, D1: ${protocol} over ${ads ? 'ADS' : 'per-type services'} serves and the client ACKs every type`, async () => {
        // VHDS has only a delta method of its own (VirtualHostDiscoveryService/DeltaVirtualHosts).
        const served = cases.filter((c) => ads || protocol === 'delta' || c.typeUrl !== TypeUrl.VirtualHost);
        const options = { node: nodeId, protocol, ads, timeoutMs: 30_000 };
        await withClient({ address: suite.address, ...options }, async (client) => {
          for (const { typeUrl, names } of served) client.subscribe(typeUrl, names);
          for (const { typeUrl, names, check } of served) {
            const response = await client.waitFor(typeUrl, (_r, state) =>
              names.every((n) => state.resources.has(n)),
            );
            assert.equal(response.acked, true, `${typeUrl} was ACKed (it decoded)`);
            check(client.resources(typeUrl));
          }
          const nacked = suite.server
            .clients()
            .flatMap((c) => Object.entries(c.types).filter(([, t]) => t?.status === 'NACKED'))
            .map(([typeUrl]) => typeUrl);
          assert.deepEqual(nacked, []);
        });
      });
    }
  }
});
