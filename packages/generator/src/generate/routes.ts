import type { RouteSpec } from '../builders/route-configuration.js';
import { defaultRetryOn } from '../builders/route-configuration.js';
import type { RouteRule, Service } from '../model/types.js';
import { clusterName } from './names.js';

/** Who the routes are for: Envoy applies `timeout`, gRPC clients the maximum stream duration. */
export type RouteFlavour = 'envoy' | 'grpc';

function routeSpec(rule: RouteRule, port: number, host: string, flavour: RouteFlavour): RouteSpec {
  const { prefix, path, headers } = rule.match;
  const match = {
    ...(path === undefined ? { prefix: prefix ?? '/' } : { path }),
    ...(Object.keys(headers).length === 0 ? {} : { headers }),
  };
  const timeout =
    rule.timeoutMs === undefined
      ? {}
      : flavour === 'envoy'
        ? { timeoutMs: rule.timeoutMs }
        : { maxStreamDurationMs: rule.timeoutMs };
  const retries =
    rule.retries === undefined
      ? {}
      : {
          retries: {
            attempts: rule.retries.attempts,
            retryOn: rule.retries.retryOn ?? defaultRetryOn,
            ...(rule.retries.perTryTimeoutMs === undefined
              ? {}
              : { perTryTimeoutMs: rule.retries.perTryTimeoutMs }),
          },
        };
  const targets = rule.to.map((d) => ({ name: clusterName(port, d.subset ?? '', host), weight: d.weight }));
  const only = targets.length === 1 ? targets[0] : undefined;
  return only === undefined
    ? { match, clusters: targets, ...timeout, ...retries }
    : { match, cluster: only.name, ...timeout, ...retries };
}

/**
 * The routes of a service on one port: its model routes in order, or one route sending everything to the whole
 * service when it has none.
 */
export function routeSpecs(service: Service, port: number, host: string, flavour: RouteFlavour): RouteSpec[] {
  if (service.routes.length === 0) return [{ match: { prefix: '/' }, cluster: clusterName(port, '', host) }];
  return service.routes.map((rule) => routeSpec(rule, port, host, flavour));
}
