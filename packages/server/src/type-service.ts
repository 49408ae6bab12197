// A per-type discovery service for any type URL the server serves (a built-in type under another name, or a type
// registered with the cache), as go-control-plane users mount one for their own types: the generic
// `envoy.service.discovery.v3` messages (DiscoveryRequest / DiscoveryResponse, DeltaDiscoveryRequest /
// DeltaDiscoveryResponse) on a service the user names, with the methods `Stream{name}`, `Delta{name}` and
// `Fetch{name}`. Its streams follow the per-type rules: an empty `type_url` means the service's type, any other is
// InvalidArgument (rules S1, S15).
import { Code, XdsError } from '@xds/api';

/** A per-type discovery service to mount (see `XdsServer.addTypeService`). */
export interface TypeServiceOptions {
  /** The type URL the service serves (`type.googleapis.com/acme.quota.v1.Quota`); the server must serve it. */
  readonly typeUrl: string;
  /** The full gRPC service name: `acme.quota.v1.QuotaDiscoveryService`. */
  readonly service: string;
  /** The methods' suffix: `Quotas` gives `StreamQuotas`, `DeltaQuotas` and `FetchQuotas`. */
  readonly name: string;
}

/** One method of a discovery service, as the server's handlers see it. */
export interface ServedMethod {
  /** The gRPC path: `/package.Service/Method`. */
  readonly path: string;
  readonly kind: 'sotw' | 'delta' | 'fetch';
  /** The type a per-type method serves; undefined on ADS. */
  readonly typeUrl: string | undefined;
  /** The method's name in the service (`StreamQuotas`). */
  readonly localName: string;
}

const serviceName = /^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/;
const methodSuffix = /^[A-Z]\w*$/;

/** The three methods of a per-type service; throws an XdsError (InvalidArgument) naming a malformed name. */
export function typeServiceMethods(options: TypeServiceOptions): ServedMethod[] {
  const { service, name, typeUrl } = options;
  if (typeof service !== 'string' || !serviceName.test(service))
    throw new XdsError(
      Code.InvalidArgument,
      `type service: ${JSON.stringify(service)} is not a gRPC service name (package.Service)`,
    );
  if (typeof name !== 'string' || !methodSuffix.test(name))
    throw new XdsError(
      Code.InvalidArgument,
      `type service: ${JSON.stringify(name)} is not a method suffix (a capitalised identifier, as in StreamClusters)`,
    );
  const method = (kind: ServedMethod['kind'], prefix: string): ServedMethod => ({
    path: `/${service}/${prefix}${name}`,
    kind,
    typeUrl,
    localName: `${prefix}${name}`,
  });
  return [method('sotw', 'Stream'), method('delta', 'Delta'), method('fetch', 'Fetch')];
}
