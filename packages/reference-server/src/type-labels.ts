// Short names for xDS types, as Istio's metrics and debug pages use them. Metric labels come from here too, and a
// client chooses the type URLs it sends: a metric label is a served type's name or `unknown`, never the client's
// URL, so the number of series stays bounded (rules S15, L2).
import { ResourceTypes, TypeUrl } from '@xds/api';

const labels: Record<TypeUrl, string> = {
  [TypeUrl.Cluster]: 'cds',
  [TypeUrl.Endpoint]: 'eds',
  [TypeUrl.Listener]: 'lds',
  [TypeUrl.Route]: 'rds',
  [TypeUrl.ScopedRoute]: 'srds',
  [TypeUrl.VirtualHost]: 'vhds',
  [TypeUrl.Secret]: 'sds',
  [TypeUrl.Runtime]: 'rtds',
  [TypeUrl.ExtensionConfig]: 'ecds',
  [TypeUrl.LbEndpoint]: 'leds',
};

/** The metric label of every type the server does not serve (one series for all of them). */
export const unknownTypeLabel = 'unknown';

/**
 * The short name Istio's metrics and debug pages use for an xDS type: `cds`, `eds`, `lds`, `rds`, … (the type URL
 * itself for a type this project does not know). For debug pages and logs; metrics use {@link metricTypeLabel}.
 */
export function typeLabel(typeUrl: string): string {
  return labels[typeUrl as TypeUrl] ?? typeUrl;
}

/**
 * The `type` label of a metric: the short name of a built-in type the server serves, the type URL of a type
 * registered with the server (`served`, the cache's types), and {@link unknownTypeLabel} for any other URL a client
 * sends, so that clients cannot add series (rules S15, L2).
 */
export function metricTypeLabel(typeUrl: string, served: ResourceTypes = ResourceTypes.builtIn): string {
  if (!served.has(typeUrl)) return unknownTypeLabel;
  return labels[typeUrl as TypeUrl] ?? typeUrl;
}
