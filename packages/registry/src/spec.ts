/**
 * `--registry KIND=LOCATION` for the reference server: parsing (a one-line message for a malformed value) and
 * making the adapter. KIND is `kubernetes`, `consul`, `eureka` or `etcd`.
 */
import { ConsulRegistry } from './consul.js';
import { EtcdRegistry, parseEtcdLocation } from './etcd.js';
import { EurekaRegistry, parseEurekaLocation } from './eureka.js';
import { KubernetesRegistry } from './kubernetes.js';
import type { Registry } from './types.js';

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
    case 'consul': {
      let url: URL | undefined;
      try {
        url = new URL(location);
      } catch {}
      if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
        throw new Error(`consul location "${location}" is not a URL like http://127.0.0.1:8500`);
      }
      break;
    }
    case 'kubernetes':
      break;
  }
  return spec;
}

/** Makes the adapter for a parsed spec. */
export function registryFromSpec(spec: RegistrySpec, options: { domain?: string } = {}): Registry {
  switch (spec.kind) {
    case 'etcd':
      return new EtcdRegistry(spec.location, options);
    case 'consul':
      return new ConsulRegistry(spec.location);
    case 'eureka':
      return new EurekaRegistry(spec.location);
    case 'kubernetes':
      return new KubernetesRegistry(spec.location, options);
  }
}
