import { create } from '@bufbuild/protobuf';
import {
  HttpConnectionManagerSchema,
  type Listener,
  type ScopedRouteConfiguration,
  ScopedRouteConfigurationSchema,
} from '@xds/api';
import { adsConfigSource } from './common.js';
import { routerHttpFilter } from './http-connection-manager.js';
import { listenerWithConnectionManager } from './listener.js';

/** What {@link makeScopedRouteConfiguration} builds. */
export interface ScopedRouteSpec {
  /** The scope's name (what the listener's SRDS subscription receives). */
  readonly name: string;
  /** The RouteConfiguration (fetched by RDS) that serves requests of this scope. */
  readonly routeConfigurationName: string;
  /** The scope key: one string per fragment of the listener's key builder, in order. */
  readonly key: readonly string[];
}

/** An SRDS resource: requests whose scope key equals `key` are routed by `routeConfigurationName`. */
export function makeScopedRouteConfiguration(spec: ScopedRouteSpec): ScopedRouteConfiguration {
  return create(ScopedRouteConfigurationSchema, {
    name: spec.name,
    routeConfigurationName: spec.routeConfigurationName,
    key: { fragments: spec.key.map((value) => ({ type: { case: 'stringKey' as const, value } })) },
  });
}

/** What {@link makeScopedRoutesListener} builds. */
export interface ScopedRoutesListenerSpec {
  /** The listener name. */
  readonly name: string;
  /** The IP to bind. */
  readonly address: string;
  /** The port to bind. */
  readonly port: number;
  /** The name of the scoped routes set (`ScopedRoutes.name`). */
  readonly scopesName: string;
  /** The request header whose value is the scope key (one fragment). */
  readonly keyHeader: string;
  /** The connection manager's stats prefix; default: the listener name. */
  readonly statPrefix?: string;
}

/**
 * An Envoy listener whose HTTP connection manager picks its RouteConfiguration per request by a scope key read from
 * a header: the scopes come by SRDS over ADS, their RouteConfigurations by RDS over ADS.
 */
export function makeScopedRoutesListener(spec: ScopedRoutesListenerSpec): Listener {
  const hcm = create(HttpConnectionManagerSchema, {
    statPrefix: spec.statPrefix ?? spec.name,
    routeSpecifier: {
      case: 'scopedRoutes',
      value: {
        name: spec.scopesName,
        scopeKeyBuilder: {
          fragments: [
            {
              type: {
                case: 'headerValueExtractor',
                value: { name: spec.keyHeader, extractType: { case: 'index', value: 0 } },
              },
            },
          ],
        },
        rdsConfigSource: adsConfigSource(),
        configSpecifier: { case: 'scopedRds', value: { scopedRdsConfigSource: adsConfigSource() } },
      },
    },
    httpFilters: [routerHttpFilter()],
  });
  return listenerWithConnectionManager(spec, hcm);
}
