import { create } from '@bufbuild/protobuf';
import { type RouteConfiguration, RouteConfigurationSchema, type VirtualHost } from '@xds/api';
import { adsConfigSource } from './common.js';
import { makeVirtualHost, type VirtualHostSpec } from './route-configuration.js';

/**
 * A RouteConfiguration whose virtual hosts come on demand by VHDS over (delta) ADS: Envoy asks for
 * `<route name>/<authority>` when a request arrives for an authority it has no virtual host for. `virtualHosts`
 * are the ones sent with the route configuration itself.
 */
export function makeVhdsRouteConfiguration(
  name: string,
  virtualHosts: readonly VirtualHostSpec[] = [],
): RouteConfiguration {
  return create(RouteConfigurationSchema, {
    name,
    virtualHosts: virtualHosts.map((v) => makeVirtualHost(v)),
    vhds: { configSource: adsConfigSource() },
  });
}

/**
 * The name a VHDS virtual host is published under: `<route configuration name>/<authority>` (Envoy's on-demand
 * request names it so).
 */
export function vhdsName(routeConfigurationName: string, authority: string): string {
  return `${routeConfigurationName}/${authority}`;
}

/** A VHDS virtual host for one authority of a route configuration, named by {@link vhdsName}. */
export function makeVhdsVirtualHost(
  routeConfigurationName: string,
  authority: string,
  spec: Omit<VirtualHostSpec, 'name' | 'domains'>,
): VirtualHost {
  return makeVirtualHost({
    ...spec,
    name: vhdsName(routeConfigurationName, authority),
    domains: [authority],
  });
}
