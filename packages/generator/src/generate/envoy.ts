import type { Message } from '@bufbuild/protobuf';
import type { Listener, RouteConfiguration, VirtualHost } from '@xds/api';
import { makeHttpListener, makeTcpListener } from '../builders/listener.js';
import { makeRouteConfiguration, makeVirtualHost } from '../builders/route-configuration.js';
import type { RouteFields } from '../builders/route-fields.js';
import { isHttpProtocol, isTcpProtocol } from '../model/protocol.js';
import type { Service, ServiceModel } from '../model/types.js';
import { clusterPartsSteps } from './assignments.js';
import { type GenerateOptions, memoOwner, routeFieldsFor } from './generate-options.js';
import { defaultMemo, type ResourceMemo } from './memo.js';
import {
  ambiguousShortNames,
  clusterName,
  envoyDomains,
  envoyListenerName,
  envoyRouteName,
  hostPort,
  serviceHost,
} from './names.js';
import { routeSpecs } from './routes.js';
import { runSteps, type Steps } from './steps.js';

/** A virtual host with the memo key of what it was built from. */
interface KeyedVirtualHost {
  readonly port: number;
  readonly key: string;
  readonly host: VirtualHost;
}

/** What one service adds to an Envoy sidecar's config besides clusters. */
interface EnvoyParts {
  readonly virtualHosts: readonly KeyedVirtualHost[];
  readonly tcpListeners: readonly Listener[];
}

function httpPorts(service: Service): number[] {
  return service.ports.filter((p) => isHttpProtocol(p.protocol)).map((p) => p.port);
}

function envoyParts(
  service: Service,
  domain: string,
  hidden: Readonly<Record<number, readonly string[]>>,
  fields: RouteFields,
  memo: ResourceMemo,
): EnvoyParts {
  const config = { ...service, endpoints: [] };
  return memo.get('service-envoy', { domain, service: config, hidden, fields }, () => {
    const host = serviceHost(service, domain);
    const virtualHosts: KeyedVirtualHost[] = [];
    const tcpListeners: Listener[] = [];
    for (const port of service.ports) {
      if (isHttpProtocol(port.protocol)) {
        const spec = {
          name: hostPort(host, port.port),
          domains: envoyDomains(service, domain, port.port, new Set(hidden[port.port] ?? [])),
          routes: routeSpecs(service, port.port, host, 'envoy'),
        };
        const key = memo.key('virtual-host', { spec, fields });
        const built = memo.getByKey(key, () => makeVirtualHost(spec, { fields }));
        virtualHosts.push({ port: port.port, key, host: built });
      } else if (isTcpProtocol(port.protocol)) {
        const spec = {
          name: envoyListenerName(port.port),
          address: '0.0.0.0',
          port: port.port,
          cluster: clusterName(port.port, '', host),
        };
        tcpListeners.push(memo.get('tcp-listener', spec, () => makeTcpListener(spec)));
      }
    }
    return { virtualHosts, tcpListeners };
  });
}

function hiddenFor(service: Service, ambiguous: Map<number, Set<string>>): Record<number, string[]> {
  const out: Record<number, string[]> = {};
  for (const port of httpPorts(service)) {
    const names = [...(ambiguous.get(port) ?? [])].filter(
      (n) => n === service.name || n.startsWith(`${service.name}.`),
    );
    if (names.length > 0) out[port] = names.sort();
  }
  return out;
}

/**
 * The xDS resources for Envoy sidecars, named the way Istio names them:
 * - per HTTP port, a listener `0.0.0.0_<port>` whose connection manager takes RouteConfiguration `"<port>"` by RDS
 *   over ADS, shared by every service on that port, with a virtual host `<fqdn>:<port>` per service;
 * - per TCP-like port (TCP, TLS, HTTPS, Mongo, Redis), a listener `0.0.0.0_<port>` proxying to the service;
 * - per port, clusters `outbound|<port>||<fqdn>` and `outbound|<port>|<subset>|<fqdn>` (EDS over ADS) with their
 *   ClusterLoadAssignments.
 * UDP ports get clusters only. Routes use `options.routeFields.envoy` (default `'current'`: `string_match`, no
 * deprecated `total_weight`). Unchanged resources are the same objects as last time (see {@link ResourceMemo}).
 */
export function generateEnvoy(model: ServiceModel, options: GenerateOptions = {}): Message[] {
  const memo = options.memo ?? defaultMemo;
  const fields = routeFieldsFor(options, 'envoy');
  return memo.generation(memoOwner(options), () => runSteps(envoySteps(model, fields, memo)));
}

/** {@link generateEnvoy}'s work in steps: one per cluster (see `clusterPartsSteps`), per service, per port. */
export function* envoySteps(model: ServiceModel, fields: RouteFields, memo: ResourceMemo): Steps<Message[]> {
  const ambiguous = ambiguousShortNames(model, httpPorts);
  const clusters: Message[] = [];
  const assignments: Message[] = [];
  const listeners: Listener[] = [];
  const byPort = new Map<number, KeyedVirtualHost[]>();
  for (const service of model.services) {
    const base = yield* clusterPartsSteps(service, model.domain, memo);
    clusters.push(...base.clusters);
    assignments.push(...base.assignments);
    const parts = envoyParts(service, model.domain, hiddenFor(service, ambiguous), fields, memo);
    listeners.push(...parts.tcpListeners);
    for (const vh of parts.virtualHosts) {
      const list = byPort.get(vh.port) ?? [];
      list.push(vh);
      byPort.set(vh.port, list);
    }
    yield;
  }
  const routes: RouteConfiguration[] = [];
  for (const port of [...byPort.keys()].sort((a, b) => a - b)) {
    const hosts = byPort
      .get(port)!
      .sort((a, b) => (a.host.name < b.host.name ? -1 : a.host.name > b.host.name ? 1 : 0));
    const name = envoyRouteName(port);
    routes.push(
      memo.get('envoy-route', { name, hosts: hosts.map((h) => h.key) }, () =>
        makeRouteConfiguration({ name, virtualHosts: hosts.map((h) => h.host) }),
      ),
    );
    const listener = {
      name: envoyListenerName(port),
      address: '0.0.0.0',
      port,
      routeName: name,
      statPrefix: `outbound_0.0.0.0_${port}`,
    };
    listeners.push(memo.get('http-listener', listener, () => makeHttpListener(listener)));
    yield;
  }
  return [...clusters, ...assignments, ...listeners, ...routes];
}
