import type { Protocol } from './protocol.js';

/**
 * The service model: the services a mesh knows, their ports, endpoints, subsets and routes. `*Input` types are
 * what people write (YAML, JSON or TypeScript); the other types are the validated model with defaults filled in,
 * which the generators take.
 */

/** A header condition of a route: exactly one field. */
export interface HeaderMatch {
  /** The value equals this. */
  readonly exact?: string;
  /** The value starts with this. */
  readonly prefix?: string;
  /** The value ends with this. */
  readonly suffix?: string;
  /** The whole value matches this RE2 expression. */
  readonly regex?: string;
  /** The header is present (`true`) or absent (`false`). */
  readonly present?: boolean;
}

/** Where an endpoint runs. */
export interface Locality {
  /** Region. */
  readonly region: string;
  /** Zone. */
  readonly zone: string;
  /** Sub-zone. */
  readonly subZone: string;
}

/** The validated model: what the generators take. */
export interface ServiceModel {
  /** The cluster domain; default `cluster.local`. */
  readonly domain: string;
  /** The services, in the order written. */
  readonly services: readonly Service[];
}

/** A service. */
export interface Service {
  /** The service name (a DNS label). */
  readonly name: string;
  /** The namespace (a DNS label); default `default`. */
  readonly namespace: string;
  /**
   * The host name, when it is not `<name>.<namespace>.svc.<domain>`: set by service registries (`web.service.consul`,
   * a Eureka VIP address); such a service has no short names.
   */
  readonly host?: string;
  /** Virtual IPs (IP literals). */
  readonly addresses: readonly string[];
  /** The ports. */
  readonly ports: readonly ServicePort[];
  /** The endpoints. */
  readonly endpoints: readonly ServiceEndpoint[];
  /** Named subsets of the endpoints, by labels. */
  readonly subsets: readonly Subset[];
  /** The routes of every HTTP port; empty means one route sending everything to the whole service. */
  readonly routes: readonly RouteRule[];
}

/** A service port. */
export interface ServicePort {
  /** The port name; default `<protocol in lower case>-<port>`. */
  readonly name: string;
  /** The port number clients use. */
  readonly port: number;
  /** The protocol; default from the name's prefix (`http`, `http2`, `grpc`, …) as Istio does, else TCP. */
  readonly protocol: Protocol;
}

/** A service endpoint. */
export interface ServiceEndpoint {
  /** An IP literal. */
  readonly address: string;
  /** The port on the endpoint for every service port not in `ports`; default: the service port's number. */
  readonly port?: number;
  /** The port on the endpoint by service port name. */
  readonly ports: Readonly<Record<string, number>>;
  /** Labels that subsets select on. */
  readonly labels: Readonly<Record<string, string>>;
  /** Where it runs; every part defaults to the empty string. */
  readonly locality: Locality;
  /** Its load balancing weight; default 1. */
  readonly weight: number;
  /** False marks it UNHEALTHY; default true (HEALTHY). */
  readonly healthy: boolean;
  /** Failover priority, 0 highest; default 0. Gaps are closed when resources are generated. */
  readonly priority: number;
}

/** A named subset of a service's endpoints. */
export interface Subset {
  /** The subset name. */
  readonly name: string;
  /** The labels an endpoint must all have to be in the subset. */
  readonly labels: Readonly<Record<string, string>>;
}

/** One route of a service. */
export interface RouteRule {
  /** What it matches. */
  readonly match: RouteRuleMatch;
  /** Where it sends requests: weighted destinations. */
  readonly to: readonly RouteDestination[];
  /** The request timeout in milliseconds. */
  readonly timeoutMs?: number;
  /** Retries. */
  readonly retries?: RouteRetries;
}

/** The match of a {@link RouteRule}: one of `prefix` and `path` (default prefix `/`), and headers. */
export interface RouteRuleMatch {
  /** Path prefix. */
  readonly prefix?: string;
  /** Exact path. */
  readonly path?: string;
  /** Header conditions by header name. */
  readonly headers: Readonly<Record<string, HeaderMatch>>;
}

/** One destination of a {@link RouteRule}. */
export interface RouteDestination {
  /** The subset; absent for the whole service. */
  readonly subset?: string;
  /** Its weight; default 1. */
  readonly weight: number;
}

/** The retries of a {@link RouteRule}. */
export interface RouteRetries {
  /** How many retries. */
  readonly attempts: number;
  /** The timeout of each try, in milliseconds. */
  readonly perTryTimeoutMs?: number;
  /** Envoy `retry_on` conditions; default per flavour. */
  readonly retryOn?: string;
}

/** A service model as written (YAML, JSON or TypeScript): what {@link validateModel} takes. */
export interface ServiceModelInput {
  /** The cluster domain; default `cluster.local`. */
  readonly domain?: string;
  /** The services. */
  readonly services: readonly ServiceInput[];
}

/** A service as written. */
export interface ServiceInput {
  /** The service name. */
  readonly name: string;
  /** The namespace; default `default`. */
  readonly namespace?: string;
  /** Virtual IPs. */
  readonly addresses?: readonly string[];
  /** The ports. */
  readonly ports: readonly ServicePortInput[];
  /** The endpoints. */
  readonly endpoints?: readonly ServiceEndpointInput[];
  /** Subsets. */
  readonly subsets?: readonly Subset[];
  /** Routes. */
  readonly routes?: readonly RouteRuleInput[];
}

/** A service port as written. */
export interface ServicePortInput {
  /** The port name. */
  readonly name?: string;
  /** The port number. */
  readonly port: number;
  /** The protocol. */
  readonly protocol?: Protocol;
}

/** An endpoint as written. */
export interface ServiceEndpointInput {
  /** An IP literal. */
  readonly address: string;
  /** The port on the endpoint. */
  readonly port?: number;
  /** The port on the endpoint by service port name. */
  readonly ports?: Readonly<Record<string, number>>;
  /** Labels. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Locality. */
  readonly locality?: Partial<Locality>;
  /** Weight. */
  readonly weight?: number;
  /** Health. */
  readonly healthy?: boolean;
  /** Priority. */
  readonly priority?: number;
}

/** A route as written. */
export interface RouteRuleInput {
  /** What it matches; default prefix `/`. */
  readonly match?: {
    readonly prefix?: string;
    readonly path?: string;
    readonly headers?: Readonly<Record<string, HeaderMatch>>;
  };
  /** Destinations. */
  readonly to: readonly { readonly subset?: string; readonly weight?: number }[];
  /** Timeout as a duration: `2s`, `150ms`, `1m30s`. */
  readonly timeout?: string;
  /** Retries. */
  readonly retries?: {
    readonly attempts: number;
    readonly perTryTimeout?: string;
    readonly retryOn?: string;
  };
}
