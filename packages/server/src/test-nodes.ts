// Nodes as real clients send them, for the tests of the node limits (rule L2): the defaults must let every one of
// them through with room. Shapes only, written for these tests: an Envoy lists every extension it was built with
// (some 500 to 600, each with its category and config type URLs) and its build's metadata; an Istio sidecar sends
// dozens of ISTIO_META keys (labels, annotations, a nested proxy config, lists of IPs and containers); a gRPC
// client, a few client features and a locality.
import type { JsonObject, JsonValue, MessageInitShape } from '@bufbuild/protobuf';
import type { NodeSchema } from '@xds/api';

type NodeInit = MessageInitShape<typeof NodeSchema>;

const categories = [
  'envoy.filters.http',
  'envoy.filters.network',
  'envoy.filters.listener',
  'envoy.transport_sockets.upstream',
  'envoy.transport_sockets.downstream',
  'envoy.access_loggers',
  'envoy.tracers',
  'envoy.stats_sinks',
  'envoy.matching.input_matchers',
  'envoy.load_balancing_policies',
  'envoy.resource_monitors',
  'envoy.retry_priorities',
];

/** An Envoy's node: `extensions` entries (600 by default), build metadata, client features. */
export function envoyNode(id: string, extensions = 600): NodeInit {
  return {
    id,
    cluster: 'ingress',
    userAgentName: 'envoy',
    userAgentVersionType: {
      case: 'userAgentBuildVersion',
      value: {
        version: { majorNumber: 1, minorNumber: 31, patch: 2 },
        metadata: {
          'revision.sha': '0123456789abcdef0123456789abcdef01234567',
          'revision.status': 'Clean',
          'build.type': 'RELEASE',
          'ssl.version': 'BoringSSL',
        },
      },
    },
    extensions: Array.from({ length: extensions }, (_, i) => {
      const category = categories[i % categories.length]!;
      const name = `${category}.extension_number_${i}`;
      return {
        name,
        category,
        typeUrls: [`envoy.extensions.${category.slice(6)}.extension_number_${i}.v3.ExtensionConfig`],
      };
    }),
    clientFeatures: [
      'envoy.config.require-any-fields-contain-struct',
      'envoy.lb.does_not_support_overprovisioning',
      'envoy.lrs.supports_send_all_clusters',
      'xds.config.supports-resource-in-sotw',
      'xds.config.supports-resource-ttl',
    ],
  };
}

/** An Istio sidecar's node: some 40 metadata keys, labels, annotations of 8 KB, a proxy config nested 4 deep. */
export function istioNode(id: string): NodeInit {
  const labels: JsonObject = {
    app: 'reviews',
    version: 'v2',
    'pod-template-hash': '5c4b8d9f7d',
    'security.istio.io/tlsMode': 'istio',
    'service.istio.io/canonical-name': 'reviews',
    'service.istio.io/canonical-revision': 'v2',
  };
  const annotations: JsonObject = {};
  for (let i = 0; i < 16; i++) annotations[`example.com/annotation-${i}`] = 'v'.repeat(500);
  const metadata: JsonObject = {
    CLUSTER_ID: 'Kubernetes',
    NAMESPACE: 'default',
    MESH_ID: 'cluster.local',
    WORKLOAD_NAME: 'reviews-v2',
    OWNER: 'kubernetes://apis/apps/v1/namespaces/default/deployments/reviews-v2',
    SERVICE_ACCOUNT: 'bookinfo-reviews',
    INSTANCE_IPS: '10.244.0.17,fe80::a8c5:2fff:fe4d:1a0b',
    INTERCEPTION_MODE: 'REDIRECT',
    ISTIO_VERSION: '1.24.0',
    LABELS: labels,
    ANNOTATIONS: annotations,
    APP_CONTAINERS: ['reviews'],
    PLATFORM_METADATA: {},
    PROXY_CONFIG: {
      binaryPath: '/usr/local/bin/envoy',
      concurrency: 2,
      discoveryAddress: 'istiod.istio-system.svc:15012',
      tracing: { zipkin: { address: 'zipkin.istio-system:9411' }, sampling: 1 },
      proxyMetadata: { DNS_AGENT: '' },
      holdApplicationUntilProxyStarts: false,
    },
    EXCHANGE_KEYS:
      'NAME,NAMESPACE,INSTANCE_IPS,LABELS,OWNER,PLATFORM_METADATA,WORKLOAD_NAME,MESH_ID,SERVICE_ACCOUNT,CLUSTER_ID',
  };
  for (let i = 0; i < 26; i++) metadata[`ISTIO_META_EXTRA_${i}`] = `value-${i}`;
  return {
    id,
    cluster: 'reviews.default',
    locality: { region: 'us-central1', zone: 'us-central1-a' },
    metadata,
    userAgentName: 'envoy',
    clientFeatures: ['envoy.lb.does_not_support_overprovisioning'],
  };
}

/** A gRPC (proxyless) client's node. */
export function grpcNode(id: string): NodeInit {
  return {
    id,
    locality: { zone: 'z1' },
    userAgentName: 'gRPC Node Pure-JS',
    userAgentVersionType: { case: 'userAgentVersion', value: '1.13.0' },
    clientFeatures: ['envoy.lb.does_not_support_overprovisioning', 'xds.config.resource-in-sotw'],
  };
}

/**
 * Metadata `levels` deep: a Struct whose value is a Struct (or, for `list`, a ListValue) and so on; 1 is a flat
 * Struct.
 */
export function nestedMetadata(levels: number, kind: 'struct' | 'list'): JsonObject {
  let value: JsonValue = 'leaf';
  for (let i = 1; i < levels; i++) value = kind === 'struct' ? { a: value } : [value];
  return { a: value };
}
