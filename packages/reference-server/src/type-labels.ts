import { TypeUrl } from '@xds/api';

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

/**
 * The short name Istio's metrics and debug pages use for an xDS type: `cds`, `eds`, `lds`, `rds`, … (the type URL
 * itself for a type this project does not know).
 */
export function typeLabel(typeUrl: string): string {
  return labels[typeUrl as TypeUrl] ?? typeUrl;
}
