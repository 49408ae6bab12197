/** The adapter for a parsed `--registry KIND=LOCATION`. */
import { ConsulRegistry } from './consul.js';
import { EtcdRegistry } from './etcd.js';
import { EurekaRegistry } from './eureka.js';
import { KubernetesRegistry } from './kubernetes.js';
import type { RegistrySpec } from './spec.js';
import type { Registry } from './types.js';

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
