/** The adapter for a parsed `--registry KIND=LOCATION`. */
import { ConsulRegistry } from './consul.js';
import { EtcdRegistry } from './etcd.js';
import { EurekaRegistry } from './eureka.js';
import { KubernetesRegistry } from './kubernetes.js';
import type { RegistryLimits } from './registry-limits.js';
import type { RegistrySpec } from './spec.js';
import type { Registry } from './types.js';

/** Makes the adapter for a parsed spec, with the cluster domain and the registry limits. */
export function registryFromSpec(
  spec: RegistrySpec,
  options: { domain?: string; limits?: Partial<RegistryLimits> } = {},
): Registry {
  switch (spec.kind) {
    case 'etcd':
      return new EtcdRegistry(spec.location, options);
    case 'consul':
      return new ConsulRegistry(
        spec.location,
        options.limits === undefined ? {} : { limits: options.limits },
      );
    case 'eureka':
      return new EurekaRegistry(
        spec.location,
        options.limits === undefined ? {} : { limits: options.limits },
      );
    case 'kubernetes':
      return new KubernetesRegistry(spec.location, options);
  }
}
