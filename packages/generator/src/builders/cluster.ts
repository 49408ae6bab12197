import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { type Cluster, Cluster_DiscoveryType, Cluster_LbPolicy, ClusterSchema } from '@xds/api';
import { adsConfigSource, durationFromMs } from './common.js';
import { makeUpstreamTlsTransportSocket } from './tls.js';
import { TransportSocketName } from './well-known.js';

/** Upstream TLS of a {@link ClusterSpec}: secrets come from SDS over ADS. */
export interface ClusterTlsSpec {
  /** The SNI to present to the upstream. */
  readonly sni?: string;
  /** The SDS secret holding the client certificate and key, when the upstream wants one (mTLS). */
  readonly secretName?: string;
  /** The SDS secret holding the CA bundle that validates the upstream's certificate. */
  readonly caSecretName?: string;
}

/** What {@link makeCluster} builds. */
export interface ClusterSpec {
  /** The cluster name. */
  readonly name: string;
  /** The ClusterLoadAssignment name (EDS service name); default: the cluster name. */
  readonly serviceName?: string;
  /** Load balancing policy; default `ROUND_ROBIN` (the one every gRPC client accepts). */
  readonly lbPolicy?: 'ROUND_ROBIN' | 'RING_HASH';
  /** Connect timeout in milliseconds; default 5000. */
  readonly connectTimeoutMs?: number;
  /** True to talk HTTP/2 to the upstream (gRPC backends). */
  readonly http2?: boolean;
  /** Upstream TLS; absent for plaintext. */
  readonly tls?: ClusterTlsSpec;
}

/** The Envoy name of the TLS transport socket (also `TransportSocketName.Tls`). */
export const tlsTransportSocketName = TransportSocketName.Tls;

/**
 * An EDS cluster whose endpoints come over ADS (`eds_config.ads`): the shape both Envoy and gRPC clients accept.
 * The EDS service name is always set, so it names the ClusterLoadAssignment to publish.
 */
export function makeCluster(spec: ClusterSpec): Cluster {
  const init: MessageInitShape<typeof ClusterSchema> = {
    name: spec.name,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
    edsClusterConfig: { serviceName: spec.serviceName ?? spec.name, edsConfig: adsConfigSource() },
    connectTimeout: durationFromMs(spec.connectTimeoutMs ?? 5000),
    lbPolicy: spec.lbPolicy === 'RING_HASH' ? Cluster_LbPolicy.RING_HASH : Cluster_LbPolicy.ROUND_ROBIN,
    ...(spec.http2 === true ? { http2ProtocolOptions: {} } : {}),
    ...(spec.tls === undefined
      ? {}
      : {
          transportSocket: makeUpstreamTlsTransportSocket({
            ...(spec.tls.sni === undefined ? {} : { sni: spec.tls.sni }),
            ...(spec.tls.secretName === undefined ? {} : { certificateSecret: spec.tls.secretName }),
            ...(spec.tls.caSecretName === undefined ? {} : { validationSecret: spec.tls.caSecretName }),
          }),
        }),
  };
  return create(ClusterSchema, init);
}
