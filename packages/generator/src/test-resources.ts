// Helpers for tests that look into generated resources.
import type { Message } from '@bufbuild/protobuf';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import {
  type Cluster,
  type ClusterLoadAssignment,
  type HttpConnectionManager,
  HttpConnectionManagerSchema,
  type Listener,
  type RouteConfiguration,
  type TcpProxy,
  TcpProxySchema,
  TypeUrl,
  typeUrlOf,
} from '@xds/api';

/** The resources of each type, in order. */
export function split(resources: readonly Message[]) {
  const of = <T>(typeUrl: TypeUrl) => resources.filter((r) => typeUrlOf(r) === typeUrl) as unknown as T[];
  return {
    clusters: of<Cluster>(TypeUrl.Cluster),
    assignments: of<ClusterLoadAssignment>(TypeUrl.Endpoint),
    listeners: of<Listener>(TypeUrl.Listener),
    routes: of<RouteConfiguration>(TypeUrl.Route),
  };
}

/** The HTTP connection manager in a listener's api_listener or first filter chain. */
export function hcmOf(listener: Listener): HttpConnectionManager | undefined {
  const api = listener.apiListener?.apiListener;
  if (api !== undefined) return anyUnpack(api, HttpConnectionManagerSchema);
  const config = listener.filterChains[0]?.filters[0]?.configType;
  return config?.case === 'typedConfig' ? anyUnpack(config.value, HttpConnectionManagerSchema) : undefined;
}

/** The TCP proxy in a listener's first filter chain. */
export function tcpProxyOf(listener: Listener): TcpProxy | undefined {
  const config = listener.filterChains[0]?.filters[0]?.configType;
  return config?.case === 'typedConfig' ? anyUnpack(config.value, TcpProxySchema) : undefined;
}

/** The `address:port` of every endpoint of an assignment. */
export function addressesOf(cla: ClusterLoadAssignment): string[] {
  return cla.endpoints.flatMap((l) =>
    l.lbEndpoints.map((e) => {
      const socket =
        e.hostIdentifier.case === 'endpoint' ? e.hostIdentifier.value.address?.address : undefined;
      if (socket?.case !== 'socketAddress') return '?';
      const port = socket.value.portSpecifier.case === 'portValue' ? socket.value.portSpecifier.value : '?';
      return `${socket.value.address}:${port}`;
    }),
  );
}

/** The type URL of each HTTP filter's typed config, in order. */
export function filterTypeUrls(hcm: HttpConnectionManager | undefined): string[] {
  return (hcm?.httpFilters ?? []).map((f) =>
    f.configType.case === 'typedConfig' ? f.configType.value.typeUrl : '',
  );
}

/** The RDS config source kind (`ads`, …) of a connection manager. */
export function rdsSourceOf(hcm: HttpConnectionManager | undefined): string | undefined {
  return hcm?.routeSpecifier.case === 'rds'
    ? hcm.routeSpecifier.value.configSource?.configSourceSpecifier.case
    : undefined;
}
