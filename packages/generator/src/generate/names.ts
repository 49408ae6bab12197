import type { Service, ServiceModel } from '../model/types.js';

/** The host name of a service: `reviews.default.svc.cluster.local`. */
export function serviceHost(service: Service, domain: string): string {
  if (service.host !== undefined) return service.host;
  return `${service.name}.${service.namespace}.svc.${domain}`;
}

/**
 * The Istio-style name of an outbound cluster: `outbound|9080||reviews.default.svc.cluster.local` for the whole
 * service, `outbound|9080|v1|reviews.default.svc.cluster.local` for a subset. It is also the EDS service name, the
 * ClusterLoadAssignment name and (for gRPC clients) the RouteConfiguration name.
 */
export function clusterName(port: number, subset: string, host: string): string {
  return `outbound|${port}|${subset}|${host}`;
}

/** The name of an Envoy sidecar's outbound listener on a port: `0.0.0.0_9080`. */
export function envoyListenerName(port: number): string {
  return `0.0.0.0_${port}`;
}

/** The name of the RouteConfiguration an Envoy sidecar's HTTP listener takes by RDS: the port, `"9080"`. */
export function envoyRouteName(port: number): string {
  return String(port);
}

/** `host:port`: a gRPC client's target authority, its Listener name and a virtual host name. */
export function hostPort(host: string, port: number): string {
  return `${host}:${port}`;
}

/** The short forms of a service's name: `reviews`, `reviews.default`, `reviews.default.svc`; none for a `host`. */
export function shortNames(service: Service): string[] {
  if (service.host !== undefined) return [];
  const { name, namespace } = service;
  return [name, `${name}.${namespace}`, `${name}.${namespace}.svc`];
}

/**
 * The domains of a service's virtual host on an Envoy sidecar, Istio style: the FQDN, the short forms and the
 * VIPs, each bare and with `:port`. Short forms in `hidden` (claimed by two services on the port) are left out,
 * since Envoy rejects a RouteConfiguration with a domain in two virtual hosts.
 */
export function envoyDomains(
  service: Service,
  domain: string,
  port: number,
  hidden: ReadonlySet<string>,
): string[] {
  const names = [
    serviceHost(service, domain),
    ...shortNames(service).filter((n) => !hidden.has(n)),
    ...service.addresses,
  ];
  return names.flatMap((n) => [n, hostPort(n.includes(':') ? `[${n}]` : n, port)]);
}

/** The domains of a service's virtual host for gRPC clients, which match the authority `host:port` exactly. */
export function grpcDomains(service: Service, domain: string, port: number): string[] {
  return [serviceHost(service, domain), ...shortNames(service)].map((n) => hostPort(n, port));
}

/**
 * The short names that more than one service claims on the same port (`reviews` in two namespaces), by port;
 * those are left out of the Envoy virtual hosts.
 */
export function ambiguousShortNames(
  model: ServiceModel,
  ports: (service: Service) => readonly number[],
): Map<number, Set<string>> {
  const claims = new Map<string, number>();
  for (const service of model.services) {
    for (const port of ports(service)) {
      for (const name of shortNames(service))
        claims.set(`${port}|${name}`, (claims.get(`${port}|${name}`) ?? 0) + 1);
    }
  }
  const out = new Map<number, Set<string>>();
  for (const [key, count] of claims) {
    if (count < 2) continue;
    const [port, name] = key.split('|') as [string, string];
    let set = out.get(Number(port));
    if (set === undefined) {
      set = new Set();
      out.set(Number(port), set);
    }
    set.add(name);
  }
  return out;
}
