// RouteConfiguration builders (RDS): virtual hosts, routes, weighted clusters, timeouts and retries, in the field
// generation the caller asks for (route-fields.ts), so that one spec serves Envoy and proxyless gRPC clients of
// every age. Weighted clusters carry `total_weight` only in the compatible generation: Envoy 1.24+ and current gRPC
// clients use the sum of the weights, older gRPC clients check the sum against `total_weight`, default 100.
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import {
  type Route,
  type RouteConfiguration,
  RouteConfigurationSchema,
  RouteSchema,
  type VirtualHost,
  VirtualHostSchema,
  type WeightedClusterSchema,
} from '@xds/api';
import { durationFromMs } from './common.js';
import { type HeaderMatchSpec, makeHeaderMatcher } from './header-matcher.js';
import { maxTotalWeight, type RouteBuildOptions, type RouteFields } from './route-fields.js';

/** What a route matches: a path prefix or an exact path (default prefix `/`), and headers. */
export interface RouteMatchSpec {
  /** The path starts with this. */
  readonly prefix?: string;
  /** The path equals this. */
  readonly path?: string;
  /** Header name → how its value must look; every one must match. */
  readonly headers?: Readonly<Record<string, HeaderMatchSpec>>;
}

/** One destination of a weighted route. */
export interface WeightedClusterSpec {
  /** The cluster. */
  readonly name: string;
  /** Its share, a uint32; the weights of a route must add up to more than 0 and at most 4,294,967,295. */
  readonly weight: number;
}

/** A retry policy. */
export interface RetrySpec {
  /** How many retries (at least 1). */
  readonly attempts: number;
  /** Envoy's `retry_on` conditions (gRPC clients read the gRPC status names in it); default `connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes`. */
  readonly retryOn?: string;
  /** The timeout of each try in milliseconds. */
  readonly perTryTimeoutMs?: number;
}

interface RouteCommon {
  /** What the route matches; default prefix `/`. */
  readonly match?: RouteMatchSpec;
  /** Envoy's request timeout in milliseconds (gRPC clients ignore it; see `maxStreamDurationMs`). */
  readonly timeoutMs?: number;
  /** The maximum stream duration in milliseconds (the timeout gRPC clients apply). */
  readonly maxStreamDurationMs?: number;
  /** Retries. */
  readonly retries?: RetrySpec;
}

/** One route: a match and either one cluster or weighted clusters. */
export type RouteSpec = RouteCommon &
  (
    | { readonly cluster: string; readonly clusters?: never }
    | { readonly clusters: readonly WeightedClusterSpec[]; readonly cluster?: never }
  );

/** A virtual host: the domains it answers and its routes, first match wins. */
export interface VirtualHostSpec {
  /** The virtual host name (unique in its RouteConfiguration). */
  readonly name: string;
  /** The `Host`/`:authority` values it answers (unique across the RouteConfiguration). */
  readonly domains: readonly string[];
  /** The routes in match order. */
  readonly routes: readonly RouteSpec[];
}

/** What {@link makeRouteConfiguration} builds. */
export interface RouteConfigurationSpec {
  /** The RouteConfiguration name (what listeners ask for by RDS). */
  readonly name: string;
  /** Its virtual hosts. */
  readonly virtualHosts: readonly (VirtualHostSpec | VirtualHost)[];
}

/** The default `retry_on` of {@link RetrySpec}. */
export const defaultRetryOn = 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes';

/**
 * The weighted clusters of a route. Throws a RangeError for a weight that is not a uint32, or weights that add up
 * to 0 or to more than a uint32 holds: every client NACKs those.
 */
function weightedClusters(
  clusters: readonly WeightedClusterSpec[],
  options: RouteBuildOptions,
): MessageInitShape<typeof WeightedClusterSchema> {
  let total = 0;
  for (const c of clusters) {
    if (!Number.isInteger(c.weight) || c.weight < 0 || c.weight > maxTotalWeight)
      throw new RangeError(`cluster "${c.name}": weight ${c.weight} is not a uint32`);
    total += c.weight;
  }
  if (total === 0 || total > maxTotalWeight)
    throw new RangeError(
      `weighted clusters: the weights add up to ${total}; clients accept 1..${maxTotalWeight}`,
    );
  return {
    clusters: clusters.map((c) => ({ name: c.name, weight: c.weight })),
    ...(options.fields === 'compatible' ? { totalWeight: total } : {}),
  };
}

/** A route from a {@link RouteSpec}, in the field generation `options.fields` names (default `'current'`). */
export function makeRoute(spec: RouteSpec, options: RouteBuildOptions = {}): Route {
  const match = spec.match ?? {};
  const path: MessageInitShape<typeof RouteSchema>['match'] = {
    pathSpecifier:
      match.path !== undefined
        ? { case: 'path', value: match.path }
        : { case: 'prefix', value: match.prefix ?? '/' },
    headers: Object.entries(match.headers ?? {}).map(([name, header]) =>
      makeHeaderMatcher(name, header, options),
    ),
  };
  const target =
    spec.cluster !== undefined
      ? { case: 'cluster' as const, value: spec.cluster }
      : { case: 'weightedClusters' as const, value: weightedClusters(spec.clusters, options) };
  const retries = spec.retries;
  return create(RouteSchema, {
    match: path,
    action: {
      case: 'route',
      value: {
        clusterSpecifier: target,
        ...(spec.timeoutMs === undefined ? {} : { timeout: durationFromMs(spec.timeoutMs) }),
        ...(spec.maxStreamDurationMs === undefined
          ? {}
          : { maxStreamDuration: { maxStreamDuration: durationFromMs(spec.maxStreamDurationMs) } }),
        ...(retries === undefined
          ? {}
          : {
              retryPolicy: {
                retryOn: retries.retryOn ?? defaultRetryOn,
                numRetries: retries.attempts,
                ...(retries.perTryTimeoutMs === undefined
                  ? {}
                  : { perTryTimeout: durationFromMs(retries.perTryTimeoutMs) }),
              },
            }),
      },
    },
  });
}

/** A virtual host from a {@link VirtualHostSpec}, in the field generation `options.fields` names. */
export function makeVirtualHost(spec: VirtualHostSpec, options: RouteBuildOptions = {}): VirtualHost {
  return create(VirtualHostSchema, {
    name: spec.name,
    domains: [...spec.domains],
    routes: spec.routes.map((route) => makeRoute(route, options)),
  });
}

/**
 * A RouteConfiguration (RDS resource), in the field generation `options.fields` names (default `'current'`; use
 * `'compatible'` for gRPC clients older than gRFC A63, see {@link RouteFields}). Virtual hosts may be specs or
 * already built messages (which are used as they are, so that a memoized virtual host is shared).
 */
export function makeRouteConfiguration(
  spec: RouteConfigurationSpec,
  options: RouteBuildOptions = {},
): RouteConfiguration {
  return create(RouteConfigurationSchema, {
    name: spec.name,
    virtualHosts: spec.virtualHosts.map((v) => (isVirtualHost(v) ? v : makeVirtualHost(v, options))),
  });
}

function isVirtualHost(value: VirtualHostSpec | VirtualHost): value is VirtualHost {
  return '$typeName' in value && value.$typeName === VirtualHostSchema.typeName;
}
