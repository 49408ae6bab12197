import { create, type MessageInitShape } from '@bufbuild/protobuf';
import {
  type HeaderMatcher,
  HeaderMatcherSchema,
  type Route,
  type RouteConfiguration,
  RouteConfigurationSchema,
  RouteSchema,
  type VirtualHost,
  VirtualHostSchema,
} from '@xds/api';
import { durationFromMs } from './common.js';

/** How one request header must look; set exactly one field. */
export interface HeaderMatchSpec {
  /** The value equals this. */
  readonly exact?: string;
  /** The value starts with this. */
  readonly prefix?: string;
  /** The value ends with this. */
  readonly suffix?: string;
  /** The value matches this RE2 regular expression (the whole value). */
  readonly regex?: string;
  /** `true`: the header is present; `false`: it is absent. */
  readonly present?: boolean;
}

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
  /** Its share; the weights of a route must add up to more than 0. */
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

/** A header matcher from a {@link HeaderMatchSpec}; throws a TypeError unless exactly one field is set. */
export function makeHeaderMatcher(name: string, spec: HeaderMatchSpec): HeaderMatcher {
  const set = Object.entries(spec).filter(([, v]) => v !== undefined);
  if (set.length !== 1)
    throw new TypeError(`header "${name}": set exactly one of exact, prefix, suffix, regex, present`);
  if (spec.present !== undefined) {
    return create(HeaderMatcherSchema, {
      name,
      headerMatchSpecifier: { case: 'presentMatch', value: true },
      invertMatch: !spec.present,
    });
  }
  let pattern: MessageInitShape<typeof HeaderMatcherSchema>['headerMatchSpecifier'];
  if (spec.exact !== undefined)
    pattern = { case: 'stringMatch', value: { matchPattern: { case: 'exact', value: spec.exact } } };
  else if (spec.prefix !== undefined)
    pattern = { case: 'stringMatch', value: { matchPattern: { case: 'prefix', value: spec.prefix } } };
  else if (spec.suffix !== undefined)
    pattern = { case: 'stringMatch', value: { matchPattern: { case: 'suffix', value: spec.suffix } } };
  else
    pattern = {
      case: 'stringMatch',
      value: { matchPattern: { case: 'safeRegex', value: { regex: spec.regex ?? '' } } },
    };
  return create(HeaderMatcherSchema, { name, headerMatchSpecifier: pattern });
}

/** A route from a {@link RouteSpec}. */
export function makeRoute(spec: RouteSpec): Route {
  const match = spec.match ?? {};
  const path: MessageInitShape<typeof RouteSchema>['match'] = {
    pathSpecifier:
      match.path !== undefined
        ? { case: 'path', value: match.path }
        : { case: 'prefix', value: match.prefix ?? '/' },
    headers: Object.entries(match.headers ?? {}).map(([name, header]) => makeHeaderMatcher(name, header)),
  };
  const target =
    spec.cluster !== undefined
      ? { case: 'cluster' as const, value: spec.cluster }
      : {
          case: 'weightedClusters' as const,
          value: { clusters: spec.clusters.map((c) => ({ name: c.name, weight: c.weight })) },
        };
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

/** A virtual host from a {@link VirtualHostSpec}. */
export function makeVirtualHost(spec: VirtualHostSpec): VirtualHost {
  return create(VirtualHostSchema, {
    name: spec.name,
    domains: [...spec.domains],
    routes: spec.routes.map(makeRoute),
  });
}

/**
 * A RouteConfiguration (RDS resource). Virtual hosts may be specs or already built messages (which are used as
 * they are, so that a memoized virtual host is shared).
 */
export function makeRouteConfiguration(spec: RouteConfigurationSpec): RouteConfiguration {
  return create(RouteConfigurationSchema, {
    name: spec.name,
    virtualHosts: spec.virtualHosts.map((v) => (isVirtualHost(v) ? v : makeVirtualHost(v))),
  });
}

function isVirtualHost(value: VirtualHostSpec | VirtualHost): value is VirtualHost {
  return '$typeName' in value && value.$typeName === VirtualHostSchema.typeName;
}
