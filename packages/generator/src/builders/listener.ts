import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import {
  type HttpConnectionManager,
  HttpConnectionManagerSchema,
  type Listener,
  ListenerSchema,
  TcpProxySchema,
  TrafficDirection,
} from '@xds/api';
import { socketAddress } from './common.js';
import { httpConnectionManagerName, makeHttpConnectionManager } from './http-connection-manager.js';
import { type DownstreamTlsSpec, makeDownstreamTlsTransportSocket } from './tls.js';
import { NetworkFilter } from './well-known.js';

/** The Envoy name of the TCP proxy network filter (also `NetworkFilter.TcpProxy`). */
export const tcpProxyName = NetworkFilter.TcpProxy;

/** What {@link makeHttpListener} builds. */
export interface HttpListenerSpec {
  /** The listener name. */
  readonly name: string;
  /** The IP to bind (`0.0.0.0` for every interface). */
  readonly address: string;
  /** The port to bind. */
  readonly port: number;
  /** The RouteConfiguration its connection manager fetches by RDS over ADS. */
  readonly routeName: string;
  /** The connection manager's stats prefix; default: the listener name. */
  readonly statPrefix?: string;
  /** Terminate TLS (certificates from SDS); absent for plaintext. */
  readonly tls?: DownstreamTlsSpec;
}

/** What {@link makeApiListener} builds. */
export interface ApiListenerSpec {
  /** The listener name: the `host:port` a gRPC client dials as `xds:///host:port`. */
  readonly name: string;
  /** The RouteConfiguration its connection manager fetches by RDS over ADS. */
  readonly routeName: string;
}

/** What {@link makeTcpListener} builds. */
export interface TcpListenerSpec {
  /** The listener name. */
  readonly name: string;
  /** The IP to bind. */
  readonly address: string;
  /** The port to bind. */
  readonly port: number;
  /** The cluster that gets every connection. */
  readonly cluster: string;
  /** The TCP proxy's stats prefix; default: the cluster name. */
  readonly statPrefix?: string;
  /** Terminate TLS (certificates from SDS); absent for plaintext. */
  readonly tls?: DownstreamTlsSpec;
}

/** An outbound Envoy listener with one filter chain: an HTTP connection manager with RDS over ADS. */
export function makeHttpListener(spec: HttpListenerSpec): Listener {
  const hcm = makeHttpConnectionManager({
    routeName: spec.routeName,
    statPrefix: spec.statPrefix ?? spec.name,
  });
  return listenerWithConnectionManager(spec, hcm);
}

/**
 * An outbound Envoy listener whose one filter chain is the given HTTP connection manager (TLS-terminated when
 * `tls` is given); the shape shared by the HTTP and scoped-routes listeners.
 */
export function listenerWithConnectionManager(
  at: {
    readonly name: string;
    readonly address: string;
    readonly port: number;
    readonly tls?: DownstreamTlsSpec;
  },
  hcm: HttpConnectionManager,
): Listener {
  return create(ListenerSchema, {
    name: at.name,
    address: socketAddress(at.address, at.port),
    trafficDirection: TrafficDirection.OUTBOUND,
    filterChains: [
      {
        filters: [
          {
            name: httpConnectionManagerName,
            configType: { case: 'typedConfig', value: anyPack(HttpConnectionManagerSchema, hcm) },
          },
        ],
        ...tlsOf(at.tls),
      },
    ],
  });
}

/**
 * A listener for a proxyless gRPC client: no address, an `api_listener` holding an HTTP connection manager with
 * RDS over ADS and the router as its last HTTP filter.
 */
export function makeApiListener(spec: ApiListenerSpec): Listener {
  const hcm = makeHttpConnectionManager({ routeName: spec.routeName, statPrefix: spec.name });
  return create(ListenerSchema, {
    name: spec.name,
    apiListener: { apiListener: anyPack(HttpConnectionManagerSchema, hcm) },
  });
}

/** An outbound Envoy listener whose one filter chain proxies every TCP connection to one cluster. */
export function makeTcpListener(spec: TcpListenerSpec): Listener {
  const proxy = create(TcpProxySchema, {
    statPrefix: spec.statPrefix ?? spec.cluster,
    clusterSpecifier: { case: 'cluster', value: spec.cluster },
  });
  return create(ListenerSchema, {
    name: spec.name,
    address: socketAddress(spec.address, spec.port),
    trafficDirection: TrafficDirection.OUTBOUND,
    filterChains: [
      {
        filters: [
          { name: tcpProxyName, configType: { case: 'typedConfig', value: anyPack(TcpProxySchema, proxy) } },
        ],
        ...tlsOf(spec.tls),
      },
    ],
  });
}

function tlsOf(tls: DownstreamTlsSpec | undefined) {
  return tls === undefined ? {} : { transportSocket: makeDownstreamTlsTransportSocket(tls) };
}
