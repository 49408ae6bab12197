/**
 * `--registry-limit NAME=VALUE`: how `xds-server` sets the bounds on what its registries (`--registry`) control,
 * `@xds/registry`'s `RegistryLimits` (response bytes, services, instances per service, endpoints per cluster, label
 * bytes, the time between updates). A registry is data from outside like a client's request, so its sizes are
 * bounded by configuration with documented defaults; the names and defaults are `@xds/registry`'s, so the flag,
 * `--help` and the docs agree.
 */
import { defaultRegistryLimits, type RegistryLimits } from '@xds/registry/limits';
import { maxLimitValue } from './limit-flags.js';

/** What each registry limit bounds, one line each, for `--help`. */
export const registryLimitMeanings: { readonly [K in keyof RegistryLimits]-?: string } = Object.freeze({
  maxRegistryServices: 'services one registry may hold',
  maxInstancesPerService: 'instances of one service in one registry',
  maxRegistryInstances: 'instances of one registry over all its services (a Eureka instance once per VIP)',
  maxEndpointsPerCluster: "endpoints of one cluster over every registry (a later registry's are left out)",
  maxRegistryResponseBytes: 'bytes of one response body from Consul or Eureka',
  maxRegistryBytesInFlight:
    'bytes of response bodies one registry reads at once (Consul: one query per service)',
  maxRegistryObjects: 'Kubernetes objects of one kind (Services, EndpointSlices, Pods) one registry holds',
  maxInstanceLabelBytes: "bytes of one instance's labels (an instance with more is left out)",
  minRegistryUpdateMs: "ms between two updates of one registry's services (a burst is one update)",
});

const names = Object.keys(defaultRegistryLimits) as (keyof RegistryLimits)[];

/** The `--registry-limit` section of `--help`. */
export function registryLimitsUsage(): string {
  const width = Math.max(...names.map((name) => name.length));
  return [
    '  --registry-limit NAME=VALUE  (repeatable) past one, a registry keeps its previous content and shows the',
    '                       error on the status page; NAME (default, meaning) is one of:',
    ...names.map(
      (name) =>
        `    ${name.padEnd(width)} ${String(defaultRegistryLimits[name]).padStart(8)}  ${registryLimitMeanings[name]}`,
    ),
  ].join('\n');
}

/**
 * Parses the `--registry-limit` values, or returns one line naming the first problem: not `NAME=VALUE`, an unknown
 * name (with the known ones), a value that is not a whole number from 1 to {@link maxLimitValue}, or a name given
 * twice.
 */
export function parseRegistryLimitFlags(
  values: string | boolean | string[] | undefined,
): Partial<RegistryLimits> | string {
  const limits: Record<string, number> = {};
  for (const text of Array.isArray(values) ? values : []) {
    const equals = text.indexOf('=');
    if (equals <= 0) return `--registry-limit ${text}: expected NAME=VALUE, e.g. maxRegistryServices=20000`;
    const name = text.slice(0, equals);
    const value = text.slice(equals + 1);
    if (!Object.hasOwn(defaultRegistryLimits, name))
      return `--registry-limit ${text}: "${name}" is not a registry limit; they are ${names.join(', ')}`;
    const number = /^\d{1,10}$/.test(value) ? Number(value) : Number.NaN;
    if (!(number >= 1 && number <= maxLimitValue))
      return `--registry-limit ${text}: ${name} must be a whole number from 1 to ${maxLimitValue} (default ${defaultRegistryLimits[name as keyof RegistryLimits]})`;
    if (Object.hasOwn(limits, name)) return `--registry-limit ${name} is given twice`;
    limits[name] = number;
  }
  return limits as Partial<RegistryLimits>;
}
