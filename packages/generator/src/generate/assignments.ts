import type { Cluster, ClusterLoadAssignment } from '@xds/api';
import { makeCluster } from '../builders/cluster.js';
import type { LocalitySpec } from '../builders/cluster-load-assignment.js';
import { isHttp2Protocol } from '../model/protocol.js';
import type { Service, ServiceEndpoint, ServicePort, Subset } from '../model/types.js';
import { assignmentEntrySteps, endpointsPerStep, hashSteps } from './assignment-steps.js';
import type { ResourceMemo } from './memo.js';
import { clusterName, serviceHost } from './names.js';
import { runSteps, type Steps } from './steps.js';

/** The clusters and ClusterLoadAssignments of one service: per port, the whole service and each subset. */
export interface ClusterParts {
  /** EDS clusters over ADS, ROUND_ROBIN. */
  readonly clusters: readonly Cluster[];
  /** One ClusterLoadAssignment per cluster, named like it. */
  readonly assignments: readonly ClusterLoadAssignment[];
}

/** The port an endpoint serves a service port on. */
export function targetPort(endpoint: ServiceEndpoint, port: ServicePort): number {
  return endpoint.ports[port.name] ?? endpoint.port ?? port.port;
}

/** True when the endpoint has every label of the subset. */
export function inSubset(endpoint: ServiceEndpoint, subset: Subset): boolean {
  return Object.entries(subset.labels).every(([key, value]) => endpoint.labels[key] === value);
}

/**
 * The localities of a ClusterLoadAssignment: endpoints grouped by priority and region/zone/sub-zone, each with a
 * weight that is the sum of its endpoints' weights (at least 1), priorities renumbered 0, 1, 2… without gaps.
 */
export function localitiesOf(endpoints: readonly ServiceEndpoint[], port: ServicePort): LocalitySpec[] {
  return runSteps(localitySteps(endpoints, port));
}

/** {@link localitiesOf} in steps of `endpointsPerStep` endpoints. */
export function* localitySteps(
  endpoints: readonly ServiceEndpoint[],
  port: ServicePort,
): Steps<LocalitySpec[]> {
  const seen = new Set<number>();
  for (const endpoint of endpoints) seen.add(endpoint.priority);
  const priorities = new Map([...seen].sort((a, b) => a - b).map((p, index) => [p, index]));
  const groups = new Map<string, { spec: LocalitySpec; endpoints: LocalitySpec['endpoints'][number][] }>();
  const order: string[] = [];
  for (let i = 0; i < endpoints.length; i++) {
    if (i > 0 && i % endpointsPerStep === 0) yield;
    const endpoint = endpoints[i]!;
    const { region, zone, subZone } = endpoint.locality;
    const priority = priorities.get(endpoint.priority)!;
    const key = JSON.stringify([priority, region, zone, subZone]);
    let group = groups.get(key);
    if (group === undefined) {
      group = {
        spec: { locality: { region, zone, subZone }, weight: 0, priority, endpoints: [] },
        endpoints: [],
      };
      groups.set(key, group);
      order.push(key);
    }
    group.endpoints.push({
      address: endpoint.address,
      port: targetPort(endpoint, port),
      weight: endpoint.weight,
      healthy: endpoint.healthy,
      ...(Object.keys(endpoint.labels).length === 0 ? {} : { labels: endpoint.labels }),
    });
  }
  return order.map((key) => {
    const group = groups.get(key)!;
    let weight = 0;
    for (const e of group.endpoints) weight += e.weight ?? 1;
    return { ...group.spec, weight: Math.max(1, weight), endpoints: group.endpoints };
  });
}

/** A built part and the memo key it is held under. */
type Keyed<T> = readonly [key: string, value: T];

/**
 * One ClusterLoadAssignment in steps of `endpointsPerStep` endpoints (assignment-steps.ts): grouping by locality,
 * hashing its key, and (when the memo does not hold it) building it.
 */
function* assignmentSteps(
  name: string,
  endpoints: readonly ServiceEndpoint[],
  port: ServicePort,
  memo: ResourceMemo,
): Steps<Keyed<ClusterLoadAssignment>> {
  const localities = yield* localitySteps(endpoints, port);
  return yield* assignmentEntrySteps(name, localities, memo);
}

function cluster(name: string, port: ServicePort, memo: ResourceMemo): Keyed<Cluster> {
  const spec = {
    name,
    serviceName: name,
    lbPolicy: 'ROUND_ROBIN' as const,
    http2: isHttp2Protocol(port.protocol),
  };
  const key = memo.key('cluster', spec);
  return [key, memo.getByKey(key, () => makeCluster(spec))];
}

/** The memo key of a service's clusters and assignments, its endpoints hashed `endpointsPerStep` a step. */
function serviceKeySteps(domain: string, service: Service): Steps<string> {
  const { endpoints, ...rest } = service;
  return hashSteps('service-clusters', { domain, service: rest }, endpoints);
}

/**
 * The clusters and assignments of a service, shared by both flavours: `outbound|<port>||<host>` and
 * `outbound|<port>|<subset>|<host>` per port. Memoized by the service's JSON; each resource also by its input.
 */
export function clusterParts(service: Service, domain: string, memo: ResourceMemo): ClusterParts {
  return runSteps(clusterPartsSteps(service, domain, memo));
}

/**
 * {@link clusterParts} in steps: three per cluster and its assignment (an assignment of 1,000 endpoints is a few
 * milliseconds of work), so that a service at the model limits (100 clusters of 1,000 endpoints) is built in
 * slices. The service's entry is made last, from the parts, so that it holds them as a built entry does.
 */
export function* clusterPartsSteps(
  service: Service,
  domain: string,
  memo: ResourceMemo,
): Steps<ClusterParts> {
  const key = yield* serviceKeySteps(domain, service);
  if (memo.has(key)) return memo.getByKey(key, () => runSteps(clusterPartsSteps(service, domain, memo)));
  const host = serviceHost(service, domain);
  const clusters: Keyed<Cluster>[] = [];
  const assignments: Keyed<ClusterLoadAssignment>[] = [];
  for (const port of service.ports) {
    const whole = clusterName(port.port, '', host);
    clusters.push(cluster(whole, port, memo));
    assignments.push(yield* assignmentSteps(whole, service.endpoints, port, memo));
    yield;
    for (const subset of service.subsets) {
      const name = clusterName(port.port, subset.name, host);
      clusters.push(cluster(name, port, memo));
      const endpoints: ServiceEndpoint[] = [];
      for (let i = 0; i < service.endpoints.length; i++) {
        if (i > 0 && i % endpointsPerStep === 0) yield;
        const endpoint = service.endpoints[i]!;
        if (inSubset(endpoint, subset)) endpoints.push(endpoint);
      }
      assignments.push(yield* assignmentSteps(name, endpoints, port, memo));
      yield;
    }
  }
  // looked up again inside the service's entry, so that the memo records them as its parts
  const again = <T>([partKey, value]: Keyed<T>): T => memo.getByKey(partKey, () => value);
  return memo.getByKey(key, () => ({ clusters: clusters.map(again), assignments: assignments.map(again) }));
}
