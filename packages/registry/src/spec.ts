/**
 * `--registry KIND=LOCATION` for the reference server: parsing, with a one-line message for a malformed value.
 * KIND is `kubernetes`, `consul`, `eureka` or `etcd`. Loads no registry client (the `@xds/registry/spec` entry).
 */
import { parseConsulLocation, parseEtcdLocation, parseEurekaLocation } from './locations.js';

/** A parsed `--registry` value. */
export interface RegistrySpec {
  /** The kind. */
  readonly kind: 'kubernetes' | 'consul' | 'eureka' | 'etcd';
  /** The location as given. */
  readonly location: string;
}

const kinds = ['kubernetes', 'consul', 'eureka', 'etcd'] as const;

/** Parses `KIND=LOCATION`; throws an Error with a one-line message naming the problem. */
export function parseRegistrySpec(text: string): RegistrySpec {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq === text.length - 1) {
    throw new Error(`--registry "${text}" must be KIND=LOCATION with KIND one of ${kinds.join(', ')}`);
  }
  const kind = text.slice(0, eq);
  const location = text.slice(eq + 1);
  if (!(kinds as readonly string[]).includes(kind)) {
    throw new Error(`--registry kind "${kind}" is not one of ${kinds.join(', ')}`);
  }
  const spec = { kind: kind as RegistrySpec['kind'], location };
  switch (spec.kind) {
    case 'etcd':
      parseEtcdLocation(location);
      break;
    case 'eureka':
      parseEurekaLocation(location);
      break;
    case 'consul':
      parseConsulLocation(location);
      break;
    case 'kubernetes':
      break;
  }
  return spec;
}
