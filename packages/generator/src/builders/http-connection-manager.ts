import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import {
  type HttpConnectionManager,
  HttpConnectionManagerSchema,
  type HttpFilter,
  HttpFilterSchema,
  RouterSchema,
} from '@xds/api';
import { adsConfigSource } from './common.js';
import { HttpFilter as HttpFilterName, NetworkFilter } from './well-known.js';

/** The Envoy name of the HTTP connection manager network filter (also `NetworkFilter.HttpConnectionManager`). */
export const httpConnectionManagerName = NetworkFilter.HttpConnectionManager;
/** The Envoy name of the router HTTP filter (also `HttpFilter.Router`). */
export const routerFilterName = HttpFilterName.Router;

/** What {@link makeHttpConnectionManager} builds. */
export interface HttpConnectionManagerSpec {
  /** The RouteConfiguration to fetch by RDS over ADS. */
  readonly routeName: string;
  /** The stats prefix (Envoy requires one). */
  readonly statPrefix: string;
}

/**
 * An HTTP connection manager that takes its routes by RDS over ADS and has the router as its last (and only)
 * HTTP filter: the shape both Envoy and gRPC clients accept.
 */
export function makeHttpConnectionManager(spec: HttpConnectionManagerSpec): HttpConnectionManager {
  return create(HttpConnectionManagerSchema, {
    statPrefix: spec.statPrefix,
    routeSpecifier: {
      case: 'rds',
      value: { routeConfigName: spec.routeName, configSource: adsConfigSource() },
    },
    httpFilters: [routerHttpFilter()],
  });
}

/** The router HTTP filter, which must be the last HTTP filter of a connection manager. */
export function routerHttpFilter(): HttpFilter {
  return create(HttpFilterSchema, {
    name: routerFilterName,
    configType: { case: 'typedConfig', value: anyPack(RouterSchema, create(RouterSchema)) },
  });
}
