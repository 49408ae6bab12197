// The bootstrap files in examples/ are what a user copies to point Envoy or a gRPC application at xds-server. Envoy
// cannot run here, so its bootstraps are checked against Envoy's own schema (envoy.config.bootstrap.v3.Bootstrap,
// strict proto3 JSON: an unknown or misspelt field fails); the gRPC bootstrap is the one the interop tests' real
// @grpc/grpc-js-xds clients start from (support/bootstrap.ts).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fromJson, isMessage, type JsonValue } from '@bufbuild/protobuf';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { xdsRegistry } from '@xds/api';
import { BootstrapSchema } from '@xds/api/gen/envoy/config/bootstrap/v3/bootstrap_pb';
import { ApiConfigSource_ApiType } from '@xds/api/gen/envoy/config/core/v3/config_source_pb';
import { UpstreamTlsContextSchema } from '@xds/api/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb';
import { parse } from 'yaml';
import { exampleGrpcBootstrap } from './support/bootstrap.js';

const examples = fileURLToPath(new URL('../../examples/', import.meta.url));

function envoyBootstrap(file: string) {
  const json = parse(readFileSync(`${examples}envoy/${file}`, 'utf8')) as JsonValue;
  return fromJson(BootstrapSchema, json, { registry: xdsRegistry });
}

describe('examples/', () => {
  for (const [file, apiType] of [
    ['bootstrap-ads-sotw.yaml', ApiConfigSource_ApiType.GRPC],
    ['bootstrap-ads-delta.yaml', ApiConfigSource_ApiType.DELTA_GRPC],
  ] as const) {
    it(`envoy/${file} is a valid Envoy Bootstrap: ADS (${ApiConfigSource_ApiType[apiType]}) to xds-server's default port`, () => {
      const bootstrap = envoyBootstrap(file);
      assert.ok(bootstrap.node?.id, 'a node id');
      assert.ok(bootstrap.node?.cluster, 'a node cluster');
      const ads = bootstrap.dynamicResources?.adsConfig;
      assert.equal(ads?.apiType, apiType);
      const target = ads?.grpcServices[0]?.targetSpecifier;
      assert.equal(target?.case, 'envoyGrpc');
      const clusterName = target?.case === 'envoyGrpc' ? target.value.clusterName : '';
      for (const source of [bootstrap.dynamicResources?.cdsConfig, bootstrap.dynamicResources?.ldsConfig]) {
        assert.equal(source?.configSourceSpecifier.case, 'ads', 'CDS and LDS come over ADS');
      }
      const cluster = bootstrap.staticResources?.clusters.find((c) => c.name === clusterName);
      assert.ok(cluster, `the ADS cluster ${clusterName} is defined`);
      assert.ok(
        cluster.typedExtensionProtocolOptions['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'],
        'the xDS cluster speaks HTTP/2',
      );
      const address = cluster.loadAssignment?.endpoints[0]?.lbEndpoints[0]?.hostIdentifier;
      assert.equal(address?.case, 'endpoint');
      const socket = address?.case === 'endpoint' ? address.value.address?.address : undefined;
      assert.equal(socket?.case, 'socketAddress');
      if (socket?.case === 'socketAddress') {
        assert.equal(`${socket.value.address}:${socket.value.portSpecifier.value}`, '127.0.0.1:18000');
      }
    });
  }

  it('envoy/bootstrap-ads-mtls.yaml is a valid Envoy Bootstrap: ADS over mutual TLS, an Istio node id (rule L6)', () => {
    const bootstrap = envoyBootstrap('bootstrap-ads-mtls.yaml');
    assert.match(bootstrap.node?.id ?? '', /^sidecar~[^~]+~[^~]+\.default~default\.svc\.cluster\.local$/);
    const cluster = bootstrap.staticResources?.clusters.find((c) => c.name === 'xds_cluster');
    const socket = cluster?.transportSocket;
    assert.equal(socket?.name, 'envoy.transport_sockets.tls');
    assert.equal(socket?.configType.case, 'typedConfig');
    const any = socket?.configType.case === 'typedConfig' ? socket.configType.value : undefined;
    assert.ok(any !== undefined && isMessage(any), 'any !== undefined && isMessage(any)');
    const tls = anyUnpack(any, UpstreamTlsContextSchema);
    assert.ok(tls, 'an UpstreamTlsContext');
    const common = tls.commonTlsContext;
    assert.deepEqual(common?.alpnProtocols, ['h2']);
    const identity = common?.tlsCertificates[0];
    assert.equal(identity?.certificateChain?.specifier.value, 'productpage.crt', 'a client certificate');
    assert.equal(identity?.privateKey?.specifier.value, 'productpage.key');
    const validation = common?.validationContextType;
    assert.equal(validation?.case, 'validationContext');
    if (validation?.case === 'validationContext')
      assert.equal(validation.value.trustedCa?.specifier.value, 'ca.crt', 'the server is verified');
  });

  it('the Envoy schema check fails on a misspelt field (so the test above could fail)', () => {
    const json = parse(readFileSync(`${examples}envoy/bootstrap-ads-sotw.yaml`, 'utf8')) as Record<
      string,
      unknown
    >;
    json['dynamic_resource'] = json['dynamic_resources'];
    assert.throws(
      () => fromJson(BootstrapSchema, json as JsonValue, { registry: xdsRegistry }),
      /dynamic_resource/,
    );
  });

  it('grpc/bootstrap.json points at xds-server with insecure creds and xds_v3, and names a node', () => {
    const bootstrap = exampleGrpcBootstrap(18000, 'n');
    const original = JSON.parse(readFileSync(`${examples}grpc/bootstrap.json`, 'utf8'));
    assert.equal(original.xds_servers[0].server_uri, '127.0.0.1:18000');
    assert.deepEqual(original.xds_servers[0].channel_creds, [{ type: 'insecure' }]);
    assert.deepEqual(original.xds_servers[0].server_features, ['xds_v3']);
    assert.ok(original.node.id, 'original.node.id');
    assert.equal(bootstrap.node.id, 'n');
  });

  it('grpc/bootstrap-tls.json is the same with google_default (TLS) creds, which the TLS interop test uses', () => {
    const plain = JSON.parse(readFileSync(`${examples}grpc/bootstrap.json`, 'utf8'));
    const tls = JSON.parse(readFileSync(`${examples}grpc/bootstrap-tls.json`, 'utf8'));
    assert.deepEqual(tls.xds_servers[0].channel_creds, [{ type: 'google_default' }]);
    tls.xds_servers[0].channel_creds = plain.xds_servers[0].channel_creds;
    assert.deepEqual(tls, plain);
  });
});
