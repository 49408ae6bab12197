import type { Any } from '@bufbuild/protobuf/wkt';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import {
  type Cluster,
  Cluster_DiscoveryType,
  type CommonTlsContext,
  DownstreamTlsContextSchema,
  type HttpConnectionManager,
  HttpConnectionManagerSchema,
  type Listener,
  type MessageOf,
  type RouteConfiguration,
  TcpProxySchema,
  type TransportSocket,
  TypeUrl,
  UpstreamTlsContextSchema,
} from '@xds/api';

/** One reference in a snapshot that points at nothing (rule R2). */
export interface Problem {
  /** The type of the resource that holds the reference. */
  readonly typeUrl: TypeUrl;
  /** The name of the resource that holds the reference. */
  readonly name: string;
  /** The type of the missing resource. */
  readonly missingTypeUrl: TypeUrl;
  /** The name of the missing resource. */
  readonly missing: string;
  /** A sentence for people: `Cluster "a" uses EDS service "a" but there is no ClusterLoadAssignment "a"`. */
  readonly message: string;
}

type Lookup = <T extends TypeUrl>(typeUrl: T) => ReadonlyMap<string, MessageOf<T>>;

/** Whether a resource exists (default: it is in the lookup's map). */
type Exists = (typeUrl: TypeUrl, name: string) => boolean;

/** The name of the ClusterLoadAssignment an EDS cluster needs, or undefined when the cluster is not EDS. */
export function edsServiceName(cluster: Cluster): string | undefined {
  const type = cluster.clusterDiscoveryType;
  if (type.case !== 'type' || type.value !== Cluster_DiscoveryType.EDS) return undefined;
  const serviceName = cluster.edsClusterConfig?.serviceName;
  return serviceName === undefined || serviceName === '' ? cluster.name : serviceName;
}

/** The HTTP connection managers of a listener: in its filter chains and in its api_listener. */
export function connectionManagers(listener: Listener): HttpConnectionManager[] {
  const out: HttpConnectionManager[] = [];
  const api = listener.apiListener?.apiListener;
  const fromApi = api === undefined ? undefined : unpack(api, HttpConnectionManagerSchema);
  if (fromApi !== undefined) out.push(fromApi);
  for (const chain of [
    ...listener.filterChains,
    ...(listener.defaultFilterChain ? [listener.defaultFilterChain] : []),
  ]) {
    for (const filter of chain.filters) {
      if (filter.configType.case !== 'typedConfig') continue;
      const hcm = unpack(filter.configType.value, HttpConnectionManagerSchema);
      if (hcm !== undefined) out.push(hcm);
    }
  }
  return out;
}

function unpack<T extends Parameters<typeof anyUnpack>[1]>(any: Any, schema: T) {
  try {
    return anyUnpack(any, schema);
  } catch {
    return undefined;
  }
}

function secretNames(context: CommonTlsContext | undefined): string[] {
  if (context === undefined) return [];
  const names = context.tlsCertificateSdsSecretConfigs.map((c) => c.name);
  const validation = context.validationContextType;
  if (validation.case === 'validationContextSdsSecretConfig') names.push(validation.value.name);
  if (validation.case === 'combinedValidationContext') {
    const sds = validation.value.validationContextSdsSecretConfig;
    if (sds !== undefined) names.push(sds.name);
  }
  return names.filter((name) => name !== '');
}

function socketSecrets(socket: TransportSocket | undefined): string[] {
  if (socket?.configType.case !== 'typedConfig') return [];
  const any = socket.configType.value;
  const upstream = unpack(any, UpstreamTlsContextSchema);
  if (upstream !== undefined) return secretNames(upstream.commonTlsContext);
  const downstream = unpack(any, DownstreamTlsContextSchema);
  return secretNames(downstream?.commonTlsContext);
}

function routeClusters(route: RouteConfiguration): string[] {
  const names: string[] = [];
  for (const host of route.virtualHosts) {
    for (const r of host.routes) {
      if (r.action.case !== 'route') continue;
      const spec = r.action.value.clusterSpecifier;
      if (spec.case === 'cluster') names.push(spec.value);
      if (spec.case === 'weightedClusters') names.push(...spec.value.clusters.map((c) => c.name));
    }
  }
  return names;
}

/**
 * Rule R2 over the resources of a snapshot: `resources` gives the decoded resources whose references are checked,
 * `exists` (default: presence in `resources`) whether a referenced one exists, so that an opaque resource counts
 * as existing without being decoded.
 */
export function checkSnapshot(resources: Lookup, exists?: Exists): Problem[] {
  const problems: Problem[] = [];
  const clusters = resources(TypeUrl.Cluster);
  const has = (typeUrl: TypeUrl, map: ReadonlyMap<string, unknown>) =>
    exists === undefined
      ? { has: (name: string) => map.has(name) }
      : { has: (name: string) => exists(typeUrl, name) };
  const assignments = has(TypeUrl.Endpoint, resources(TypeUrl.Endpoint));
  const routes = resources(TypeUrl.Route);
  const routeNames = has(TypeUrl.Route, routes);
  const clusterNames = has(TypeUrl.Cluster, clusters);
  const secrets = has(TypeUrl.Secret, resources(TypeUrl.Secret));
  const need = (typeUrl: TypeUrl, name: string, missingTypeUrl: TypeUrl, missing: string, what: string) => {
    problems.push({
      typeUrl,
      name,
      missingTypeUrl,
      missing,
      message: `${what} "${missing}", which does not exist`,
    });
  };
  for (const [name, cluster] of clusters) {
    const service = edsServiceName(cluster);
    if (service !== undefined && !assignments.has(service)) {
      need(
        TypeUrl.Cluster,
        name,
        TypeUrl.Endpoint,
        service,
        `Cluster "${name}" takes endpoints from ClusterLoadAssignment`,
      );
    }
    for (const secret of socketSecrets(cluster.transportSocket)) {
      if (!secrets.has(secret))
        need(TypeUrl.Cluster, name, TypeUrl.Secret, secret, `Cluster "${name}" uses Secret`);
    }
  }
  for (const [name, listener] of resources(TypeUrl.Listener)) {
    for (const hcm of connectionManagers(listener)) {
      const spec = hcm.routeSpecifier;
      if (spec.case === 'rds' && !routeNames.has(spec.value.routeConfigName)) {
        need(
          TypeUrl.Listener,
          name,
          TypeUrl.Route,
          spec.value.routeConfigName,
          `Listener "${name}" routes by RouteConfiguration`,
        );
      }
      if (spec.case === 'routeConfig') {
        for (const cluster of routeClusters(spec.value)) {
          if (!clusterNames.has(cluster))
            need(TypeUrl.Listener, name, TypeUrl.Cluster, cluster, `Listener "${name}" routes to Cluster`);
        }
      }
    }
    const chains = [
      ...listener.filterChains,
      ...(listener.defaultFilterChain ? [listener.defaultFilterChain] : []),
    ];
    for (const chain of chains) {
      for (const secret of socketSecrets(chain.transportSocket)) {
        if (!secrets.has(secret))
          need(TypeUrl.Listener, name, TypeUrl.Secret, secret, `Listener "${name}" uses Secret`);
      }
      for (const filter of chain.filters) {
        if (filter.configType.case !== 'typedConfig') continue;
        const tcp = unpack(filter.configType.value, TcpProxySchema);
        if (tcp?.clusterSpecifier.case === 'cluster' && !clusterNames.has(tcp.clusterSpecifier.value)) {
          need(
            TypeUrl.Listener,
            name,
            TypeUrl.Cluster,
            tcp.clusterSpecifier.value,
            `Listener "${name}" proxies TCP to Cluster`,
          );
        }
      }
    }
  }
  for (const [name, route] of routes) {
    for (const cluster of routeClusters(route)) {
      if (!clusterNames.has(cluster))
        need(TypeUrl.Route, name, TypeUrl.Cluster, cluster, `RouteConfiguration "${name}" routes to Cluster`);
    }
  }
  return problems;
}
