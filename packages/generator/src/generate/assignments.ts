import type { Cluster, ClusterLoadAssignment } from '@xds/api';
import { makeCluster } from '../builders/cluster.js';
import { type LocalitySpec, makeClusterLoadAssignment } from '../builders/cluster-load-assignment.js';
import { isHttp2Protocol } from '../model/protocol.js';
import type { Service, ServiceEndpoint, ServicePort, Subset } from '../model/types.js';
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
  const priorities = [...new Set(endpoints.map((e) => e.priority))].sort((a, b) => a - b);
  const groups = new Map<string, { spec: LocalitySpec; endpoints: LocalitySpec['endpoints'][number][] }>();
  const order: string[] = [];
  for (const endpoint of endpoints) {
    const { region, zone, subZone } = endpoint.locality;
    const priority = priorities.indexOf(endpoint.priority);
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
    const weight = Math.max(
      1,
      group.endpoints.reduce((sum, e) => sum + (e.weight ?? 1), 0),
    );
    return { ...group.spec, weight, endpoints: group.endpoints };
  });
}

/** A built part and the memo key it is held under. */
type Keyed<T> = readonly [key: string, value: T];

/**
 * One ClusterLoadAssignment in three steps (each a third of the work for 1,000 endpoints): its key (the hash of
 * its localities), then, when the memo does not hold it, building it, then freezing and remembering it.
 */
function* assignmentSteps(
  name: string,
  endpoints: readonly ServiceEndpoint[],
  port: ServicePort,
  memo: ResourceMemo,
): Steps<Keyed<ClusterLoadAssignment>> {
  const localities = localitiesOf(endpoints, port);
  const key = memo.key('cla', { name, localities });
  if (!memo.has(key)) {
    yield;
    const built = makeClusterLoadAssignment(name, localities);
    yield;
    return [key, memo.getByKey(key, () => built)];
  }
  return [key, memo.getByKey(key, () => makeClusterLoadAssignment(name, localities))];
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
  const key = memo.key('service-clusters', { domain, service });
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
      const endpoints = service.endpoints.filter((e) => inSubset(e, subset));
      assignments.push(yield* assignmentSteps(name, endpoints, port, memo));
      yield;
    }
  }
  // looked up again inside the service's entry, so that the memo records them as its parts
  const again = <T>([partKey, value]: Keyed<T>): T => memo.getByKey(partKey, () => value);
  return memo.getByKey(key, () => ({ clusters: clusters.map(again), assignments: assignments.map(again) }));
}
