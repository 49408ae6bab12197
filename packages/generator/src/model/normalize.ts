import { parseDuration } from './duration.js';
import { inferProtocol, type Protocol } from './protocol.js';
import type {
  HeaderMatch,
  RouteRule,
  RouteRuleInput,
  Service,
  ServiceEndpoint,
  ServiceEndpointInput,
  ServiceInput,
  ServiceModel,
  ServiceModelInput,
  ServicePort,
  ServicePortInput,
} from './types.js';

function port(input: ServicePortInput): ServicePort {
  const protocol: Protocol = input.protocol ?? inferProtocol(input.name);
  return { name: input.name ?? `${protocol.toLowerCase()}-${input.port}`, port: input.port, protocol };
}

function endpoint(input: ServiceEndpointInput): ServiceEndpoint {
  return {
    address: input.address,
    ...(input.port === undefined ? {} : { port: input.port }),
    ports: { ...input.ports },
    labels: { ...input.labels },
    locality: {
      region: input.locality?.region ?? '',
      zone: input.locality?.zone ?? '',
      subZone: input.locality?.subZone ?? '',
    },
    weight: input.weight ?? 1,
    healthy: input.healthy ?? true,
    priority: input.priority ?? 0,
  };
}

function route(input: RouteRuleInput): RouteRule {
  const match = input.match ?? {};
  const headers: Record<string, HeaderMatch> = {};
  for (const [name, header] of Object.entries(match.headers ?? {}))
    headers[name.toLowerCase()] = { ...header };
  const timeoutMs = input.timeout === undefined ? undefined : parseDuration(input.timeout);
  const retries = input.retries;
  const perTryTimeoutMs =
    retries?.perTryTimeout === undefined ? undefined : parseDuration(retries.perTryTimeout);
  return {
    match: {
      ...(match.path === undefined ? { prefix: match.prefix ?? '/' } : { path: match.path }),
      headers,
    },
    to: input.to.map((d) => ({
      ...(d.subset === undefined ? {} : { subset: d.subset }),
      weight: d.weight ?? 1,
    })),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(retries === undefined
      ? {}
      : {
          retries: {
            attempts: retries.attempts,
            ...(perTryTimeoutMs === undefined ? {} : { perTryTimeoutMs }),
            ...(retries.retryOn === undefined ? {} : { retryOn: retries.retryOn }),
          },
        }),
  };
}

function service(input: ServiceInput): Service {
  return {
    name: input.name,
    namespace: input.namespace ?? 'default',
    addresses: [...(input.addresses ?? [])],
    ports: input.ports.map(port),
    endpoints: (input.endpoints ?? []).map(endpoint),
    subsets: (input.subsets ?? []).map((s) => ({ name: s.name, labels: { ...s.labels } })),
    routes: (input.routes ?? []).map(route),
  };
}

/** The validated model with defaults filled in, from input that passed every check. */
export function normalizeModel(input: ServiceModelInput): ServiceModel {
  return { domain: input.domain ?? 'cluster.local', services: input.services.map(service) };
}
