import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import {
  DownstreamTlsContextSchema,
  HttpConnectionManagerSchema,
  TypeUrl,
  UpstreamTlsContextSchema,
} from '@xds/api';
import { Snapshot } from '@xds/cache';
import { makeCluster } from './cluster.js';
import { makeClusterLoadAssignment } from './cluster-load-assignment.js';
import { makeHttpListener } from './listener.js';
import { makeRouteConfiguration } from './route-configuration.js';
import { makeRuntime } from './runtime.js';
import { makeScopedRouteConfiguration, makeScopedRoutesListener } from './scoped-routes.js';
import { makeDownstreamTlsTransportSocket, makeUpstreamTlsTransportSocket } from './tls.js';
import { makeVhdsRouteConfiguration, makeVhdsVirtualHost, vhdsName } from './vhds.js';
import { ExtensionTypeUrl, TransportSocketName } from './well-known.js';

describe('TLS transport sockets', () => {
  it('downstream: certificate and CA from SDS over ADS, client certificates required when asked', () => {
    const socket = makeDownstreamTlsTransportSocket({
      certificateSecret: 'cert',
      validationSecret: 'ca',
      requireClientCertificate: true,
    });
    assert.equal(socket.name, TransportSocketName.Tls);
    assert.ok(socket.configType.case === 'typedConfig');
    assert.equal(socket.configType.value.typeUrl, ExtensionTypeUrl.DownstreamTlsContext);
    const context = anyUnpack(socket.configType.value, DownstreamTlsContextSchema);
    assert.equal(context?.requireClientCertificate, true);
    assert.equal(context?.commonTlsContext?.tlsCertificateSdsSecretConfigs[0]?.name, 'cert');
    assert.equal(context?.commonTlsContext?.validationContextType.case, 'validationContextSdsSecretConfig');
  });

  it('downstream: refuses a listener without a certificate, and mTLS without a CA, naming what is missing', () => {
    assert.throws(
      () => makeDownstreamTlsTransportSocket({ validationSecret: 'ca' }),
      /needs certificateSecret/,
    );
    assert.throws(
      () => makeDownstreamTlsTransportSocket({ certificateSecret: 'c', requireClientCertificate: true }),
      /needs validationSecret/,
    );
  });

  it('upstream: SNI and secrets, the same shape makeCluster uses', () => {
    const socket = makeUpstreamTlsTransportSocket({ sni: 'a.example', validationSecret: 'ca' });
    assert.ok(socket.configType.case === 'typedConfig');
    const context = anyUnpack(socket.configType.value, UpstreamTlsContextSchema);
    assert.equal(context?.sni, 'a.example');
    const cluster = makeCluster({ name: 'a', tls: { sni: 'a.example', caSecretName: 'ca' } });
    assert.deepEqual(cluster.transportSocket, socket);
  });

  it('R2: a TLS listener whose secret is missing is reported by check()', () => {
    const snapshot = Snapshot.create([
      makeCluster({ name: 'a' }),
      makeClusterLoadAssignment('a', []),
      makeRouteConfiguration({ name: 'r', virtualHosts: [] }),
      makeHttpListener({
        name: 'l',
        address: '0.0.0.0',
        port: 443,
        routeName: 'r',
        tls: { certificateSecret: 'gone' },
      }),
    ]);
    const problems = snapshot.check();
    assert.equal(problems.length, 1);
    assert.match(JSON.stringify(problems[0]), /gone/);
  });
});

describe('SRDS, VHDS and RTDS builders', () => {
  it('a scoped route names its route configuration and key; the listener reads the key from a header', () => {
    const scope = makeScopedRouteConfiguration({ name: 's', routeConfigurationName: 'r', key: ['tenant-a'] });
    assert.equal(scope.routeConfigurationName, 'r');
    assert.deepEqual(
      scope.key?.fragments.map((f) => f.type.value),
      ['tenant-a'],
    );
    const listener = makeScopedRoutesListener({
      name: 'l',
      address: '0.0.0.0',
      port: 80,
      scopesName: 'sc',
      keyHeader: 'x-t',
    });
    const filter = listener.filterChains[0]?.filters[0];
    assert.ok(filter?.configType.case === 'typedConfig');
    const hcm = anyUnpack(filter.configType.value, HttpConnectionManagerSchema);
    assert.equal(hcm?.routeSpecifier.case, 'scopedRoutes');
    if (hcm?.routeSpecifier.case === 'scopedRoutes') {
      assert.equal(hcm.routeSpecifier.value.name, 'sc');
      assert.equal(hcm.routeSpecifier.value.configSpecifier.case, 'scopedRds');
      const fragment = hcm.routeSpecifier.value.scopeKeyBuilder?.fragments[0]?.type;
      assert.equal(fragment?.case === 'headerValueExtractor' ? fragment.value.name : undefined, 'x-t');
    }
  });

  it('a VHDS route configuration asks for virtual hosts named <route>/<authority>', () => {
    const route = makeVhdsRouteConfiguration('r');
    assert.equal(route.vhds?.configSource?.configSourceSpecifier.case, 'ads');
    assert.equal(vhdsName('r', 'a.example:80'), 'r/a.example:80');
    const host = makeVhdsVirtualHost('r', 'a.example:80', {
      routes: [{ match: { prefix: '/' }, cluster: 'a' }],
    });
    assert.equal(host.name, 'r/a.example:80');
    assert.deepEqual(host.domains, ['a.example:80']);
  });

  it('a runtime layer keeps its values; Snapshot files it under RTDS by name', () => {
    const runtime = makeRuntime('rt', { flag: true, 'a.b': 2, nested: { c: 'x' } });
    assert.deepEqual(runtime.layer, { flag: true, 'a.b': 2, nested: { c: 'x' } });
    const snapshot = Snapshot.create([runtime]);
    assert.deepEqual([...snapshot.entries(TypeUrl.Runtime).keys()], ['rt']);
  });
});
