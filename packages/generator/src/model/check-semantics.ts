import { isIP } from 'node:net';
import { maxTotalWeight } from '../builders/route-fields.js';
import { checkRoutes } from './check-routes.js';
import { isRecord } from './check-shape.js';
import { didYouMean } from './closest.js';
import type { Issue, PathSegment } from './model-error.js';
import { defaultModelLimits, formatCount } from './model-limits.js';
import { inferProtocol, isHttpProtocol, isTcpProtocol, type Protocol, protocols } from './protocol.js';

const label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A port as far as the checks can tell; undefined parts were wrong and are reported by the shape check. */
interface PortView {
  readonly index: number;
  readonly name: string | undefined;
  readonly port: number | undefined;
  readonly protocol: Protocol;
}

/** The first user of each port number across services, for listener conflicts. */
interface PortOwner {
  readonly service: string;
  readonly protocol: Protocol;
}

interface Context {
  readonly issues: Issue[];
  readonly maxSubsetsPerService: number;
  readonly services: Map<string, number>;
  readonly vips: Map<string, string>;
  readonly ports: Map<number, PortOwner>;
}

function checkLabel(value: unknown, what: string, path: PathSegment[], issues: Issue[]): void {
  if (typeof value !== 'string' || (label.test(value) && value.length <= 63)) return;
  issues.push({
    path,
    message:
      `${JSON.stringify(value)} is not a valid ${what}: use at most 63 lower-case letters, digits and "-", ` +
      'starting and ending with a letter or digit',
  });
}

function checkDomain(value: unknown, issues: Issue[]): void {
  if (typeof value !== 'string') return;
  if (value.split('.').every((part) => label.test(part) && part.length <= 63)) return;
  issues.push({ path: ['domain'], message: `${JSON.stringify(value)} is not a DNS name like cluster.local` });
}

function asPort(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535
    ? value
    : undefined;
}

function portViews(ports: unknown, path: PathSegment[], issues: Issue[]): PortView[] {
  if (!Array.isArray(ports)) return [];
  const views: PortView[] = [];
  const numbers = new Map<number, number>();
  const names = new Map<string, number>();
  for (const [index, raw] of ports.entries()) {
    if (!isRecord(raw)) continue;
    const name = typeof raw.name === 'string' ? raw.name : undefined;
    const port = asPort(raw.port);
    const given = protocols.find((p) => p === raw.protocol);
    const view = { index, name, port, protocol: given ?? inferProtocol(name) };
    views.push(view);
    if (port !== undefined) {
      const first = numbers.get(port);
      if (first === undefined) numbers.set(port, index);
      else
        issues.push({
          path: [...path, index, 'port'],
          message: `port ${port} is listed twice (also ports[${first}])`,
        });
    }
    if (name !== undefined) {
      const first = names.get(name);
      if (first === undefined) names.set(name, index);
      else
        issues.push({
          path: [...path, index, 'name'],
          message: `port name "${name}" is used twice (also ports[${first}])`,
        });
    }
  }
  return views;
}

function checkPortConflicts(id: string, views: PortView[], path: PathSegment[], context: Context): void {
  for (const view of views) {
    if (view.port === undefined || view.protocol === 'UDP') continue;
    const owner = context.ports.get(view.port);
    if (owner === undefined) {
      context.ports.set(view.port, { service: id, protocol: view.protocol });
      continue;
    }
    const tcp = isTcpProtocol(view.protocol);
    if (!tcp && !isTcpProtocol(owner.protocol)) continue;
    const message =
      tcp && isTcpProtocol(owner.protocol)
        ? `port ${view.port} is also a TCP port of ${owner.service}; an Envoy sidecar's TCP listener on a port ` +
          'proxies to one service only'
        : `port ${view.port} is ${view.protocol} here but ${owner.protocol} for ${owner.service}; an Envoy sidecar ` +
          'has one listener per port, either HTTP or TCP';
    context.issues.push({ path: [...path, view.index, 'port'], message });
  }
}

function checkEndpoints(endpoints: unknown, views: PortView[], path: PathSegment[], issues: Issue[]): void {
  if (!Array.isArray(endpoints)) return;
  const names = views.flatMap((v) => (v.name === undefined ? [] : [v.name]));
  const targets = new Map<string, number>();
  let weights = 0;
  for (const [e, endpoint] of endpoints.entries()) {
    if (!isRecord(endpoint)) continue;
    const weight = endpoint.weight ?? 1;
    if (typeof weight === 'number' && Number.isInteger(weight) && weight > 0) weights += weight;
    const address = endpoint.address;
    if (typeof address === 'string' && isIP(address) === 0) {
      issues.push({
        path: [...path, e, 'address'],
        message: `${JSON.stringify(address)} is not an IP address (gRPC clients and EDS take IP literals only)`,
      });
    }
    const byName = isRecord(endpoint.ports) ? endpoint.ports : {};
    for (const name of Object.keys(byName)) {
      if (!names.includes(name)) {
        issues.push({
          path: [...path, e, 'ports', name],
          message: `the service has no port named "${name}"${didYouMean(name, names)}`,
          target: 'key',
        });
      }
    }
    if (typeof address !== 'string') continue;
    const seen = new Set<string>();
    for (const view of views) {
      const target =
        asPort(view.name === undefined ? undefined : byName[view.name]) ?? asPort(endpoint.port) ?? view.port;
      const key = `${address}|${target}`;
      if (target === undefined || seen.has(key)) continue;
      seen.add(key);
      const first = targets.get(key);
      if (first === undefined) targets.set(key, e);
      else {
        issues.push({
          path: [...path, e],
          message: `endpoint ${address}:${target} is listed twice (also endpoints[${first}])`,
        });
      }
    }
  }
  // Envoy and gRPC clients add up the weights of a locality's endpoints (and a priority's localities) in a
  // uint32; past it they reject the whole ClusterLoadAssignment. The service's total bounds every such sum.
  if (weights > maxTotalWeight) {
    issues.push({
      path,
      message: `the endpoints' weights add up to ${formatCount(weights)}, more than ${formatCount(maxTotalWeight)} (uint32), which every client rejects`,
    });
  }
}

function labelsOf(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

/**
 * The names of a service's subsets, with an issue for each name listed twice and each subset that selects no
 * endpoint. Past `maxSubsetsPerService`, one issue names the limit and no subset is walked against the endpoints
 * (each walk is O(endpoints)).
 */
function checkSubsets(subsets: unknown, endpoints: unknown, path: PathSegment[], context: Context): string[] {
  if (!Array.isArray(subsets)) return [];
  const { issues, maxSubsetsPerService: max } = context;
  const tooMany = subsets.length > max;
  if (tooMany) {
    issues.push({
      path,
      message: `${formatCount(subsets.length)} subsets, more than ${formatCount(max)}; the limit is maxSubsetsPerService`,
    });
  }
  const all =
    !tooMany && Array.isArray(endpoints) ? endpoints.filter(isRecord).map((e) => labelsOf(e.labels)) : [];
  const names = new Set<string>();
  for (const [s, subset] of subsets.entries()) {
    if (!isRecord(subset) || typeof subset.name !== 'string') continue;
    if (names.has(subset.name)) {
      issues.push({ path: [...path, s, 'name'], message: `subset "${subset.name}" is defined twice` });
    }
    names.add(subset.name);
    if (!isRecord(subset.labels)) continue;
    // A service that lists no endpoint takes them from a registry (or has none yet): its subsets are checked
    // against what arrives, not here.
    if (all.length === 0) continue;
    const wanted = Object.entries(subset.labels);
    if (all.some((labels) => wanted.every(([k, v]) => labels[k] === v))) continue;
    const seen = [
      ...new Set(
        all.map(
          (l) =>
            Object.entries(l)
              .map(([k, v]) => `${k}=${String(v)}`)
              .join(',') || '(none)',
        ),
      ),
    ];
    const hint = `endpoint labels: ${seen.slice(0, 4).join('; ') || 'none'}`;
    const want = wanted.map(([k, v]) => `${k}=${String(v)}`).join(',');
    issues.push({
      path: [...path, s, 'labels'],
      message: `subset "${subset.name}" (${want}) selects no endpoint (${hint})`,
    });
  }
  return [...names];
}

function checkService(service: Record<string, unknown>, i: number, context: Context): void {
  const { issues } = context;
  const at: PathSegment[] = ['services', i];
  checkLabel(service.name, 'service name', [...at, 'name'], issues);
  checkLabel(service.namespace, 'namespace', [...at, 'namespace'], issues);
  const name = typeof service.name === 'string' ? service.name : `services[${i}]`;
  const namespace = typeof service.namespace === 'string' ? service.namespace : 'default';
  const id = `${name}.${namespace}`;
  if (typeof service.name === 'string') {
    const first = context.services.get(id);
    if (first === undefined) context.services.set(id, i);
    else {
      issues.push({
        path: [...at, 'name'],
        message: `service "${name}" in namespace "${namespace}" is defined twice (also services[${first}])`,
      });
    }
  }
  if (Array.isArray(service.addresses)) {
    for (const [a, address] of service.addresses.entries()) {
      if (typeof address !== 'string') continue;
      if (isIP(address) === 0) {
        issues.push({
          path: [...at, 'addresses', a],
          message: `${JSON.stringify(address)} is not an IP address`,
        });
        continue;
      }
      const owner = context.vips.get(address);
      if (owner === undefined) context.vips.set(address, id);
      else
        issues.push({
          path: [...at, 'addresses', a],
          message: `address ${address} is also used by ${owner}`,
        });
    }
  }
  const views = portViews(service.ports, [...at, 'ports'], issues);
  checkPortConflicts(id, views, [...at, 'ports'], context);
  checkEndpoints(service.endpoints, views, [...at, 'endpoints'], issues);
  const subsets = checkSubsets(service.subsets, service.endpoints, [...at, 'subsets'], context);
  const hasHttpPort = views.some((v) => isHttpProtocol(v.protocol));
  checkRoutes(service.routes, [...at, 'routes'], { service: id, subsets, hasHttpPort }, issues);
}

/**
 * Checks what the schema cannot express and appends an issue for each problem: names, IP addresses, duplicate
 * services, ports, VIPs, endpoints and subsets, port conflicts between services, subsets that select nothing,
 * and routes (see {@link checkRoutes}). Works on a value that may also have shape errors. A service's subsets past
 * `maxSubsetsPerService` are one issue and are not walked against its endpoints.
 */
export function checkSemantics(
  model: unknown,
  issues: Issue[],
  maxSubsetsPerService: number = defaultModelLimits.maxSubsetsPerService,
): void {
  if (!isRecord(model)) return;
  checkDomain(model.domain, issues);
  const context: Context = {
    issues,
    maxSubsetsPerService,
    services: new Map(),
    vips: new Map(),
    ports: new Map(),
  };
  if (!Array.isArray(model.services)) return;
  for (const [i, service] of model.services.entries())
    if (isRecord(service)) checkService(service, i, context);
}
