/** The adapter for a parsed `--registry KIND=LOCATION`. */
import type { RegistryParseOptions } from './body-parser.js';
import { ConsulRegistry } from './consul.js';
import { EtcdRegistry } from './etcd.js';
import { EurekaRegistry } from './eureka.js';
import { KubernetesRegistry } from './kubernetes.js';
import type { RegistryLimits } from './registry-limits.js';
import type { RegistrySpec } from './spec.js';
import type { Registry } from './types.js';

/**
 * Makes the adapter for a parsed spec, with the cluster domain, the registry limits and how Kubernetes, Consul and
 * Eureka parse their answers off the event loop (`parse`; etcd's are gRPC messages, not parsed so).
 */
export function registryFromSpec(
  spec: RegistrySpec,
  options: { domain?: string; limits?: Partial<RegistryLimits>; parse?: Partial<RegistryParseOptions> } = {},
): Registry {
  const parse = options.parse === undefined ? {} : { parse: options.parse };
  switch (spec.kind) {
    case 'etcd':
      return new EtcdRegistry(spec.location, options);
    case 'consul':
      return new ConsulRegistry(spec.location, {
        ...(options.limits === undefined ? {} : { limits: options.limits }),
        ...parse,
      });
    case 'eureka':
      return new EurekaRegistry(spec.location, {
        ...(options.limits === undefined ? {} : { limits: options.limits }),
        ...parse,
      });
    case 'kubernetes':
      return new KubernetesRegistry(spec.location, options);
  }
}
