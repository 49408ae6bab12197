/**
 * `--registry-limit NAME=VALUE`: how `xds-server` sets the bounds on what its registries (`--registry`) control,
 * `@xds/registry`'s `RegistryLimits` (response bytes, services, instances per service, endpoints per cluster, label
 * bytes, the time between updates), and how their answers are parsed off the event loop, three of its
 * `RegistryParseOptions` (`parseHeapMiB`, `parseTimeoutMs`, `inlineParseBytes`: the parse worker's heap and time,
 * and the largest answer parsed on the event loop). A registry is data from outside like a client's request, so its
 * sizes are bounded by configuration with documented defaults; the names and defaults are `@xds/registry`'s, so the
 * flag, `--help` and the docs agree (the parse defaults are restated here, so that `--help` does not load the
 * adapters; a test compares them with `defaultParseOptions`).
 */
import type { RegistryParseOptions } from '@xds/registry';
import { defaultRegistryLimits, type RegistryLimits } from '@xds/registry/limits';
import { maxLimitValue } from './limit-flags.js';
import {
  type NamedLimit,
  type NamedLimitFlag,
  namedLimitRows,
  parseNamedLimits,
} from './named-limit-flag.js';

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

/** The parse options `--registry-limit` sets. */
export type RegistryParseFlags = Pick<
  RegistryParseOptions,
  'parseHeapMiB' | 'parseTimeoutMs' | 'inlineParseBytes'
>;

/**
 * The parse options `--registry-limit` takes, with `defaultParseOptions`' defaults and the range the flag accepts:
 * a heap below 16 MiB cannot start a worker; answers past 64 MiB (`maxRegistryResponseBytes`' default) parsed on
 * the event loop would stall xDS for seconds (rule L4).
 */
export const registryParseLimits: { readonly [K in keyof RegistryParseFlags]: NamedLimit } = Object.freeze({
  parseHeapMiB: {
    defaultValue: 1024,
    min: 16,
    max: 65_536,
    meaning: "MiB of heap of one registry's parse worker (an answer that needs more is a registry error)",
  },
  parseTimeoutMs: {
    defaultValue: 60_000,
    min: 1,
    max: maxLimitValue,
    meaning: "ms one answer's parse may take in the worker (then it is stopped: a registry error)",
  },
  inlineParseBytes: {
    defaultValue: 64 * 1024,
    min: 0,
    max: 64 * 1024 * 1024,
    meaning: 'bytes of an answer parsed on the event loop; larger ones go to the parse worker',
  },
});

const flag: NamedLimitFlag = {
  flag: 'registry-limit',
  kind: 'registry limit',
  example: 'maxRegistryServices=20000',
  names: {
    ...Object.fromEntries(
      (Object.keys(defaultRegistryLimits) as (keyof RegistryLimits)[]).map((name) => [
        name,
        {
          defaultValue: defaultRegistryLimits[name],
          min: 1,
          max: maxLimitValue,
          meaning: registryLimitMeanings[name],
        },
      ]),
    ),
    ...registryParseLimits,
  },
};

/** The `--registry-limit` section of `--help`. */
export function registryLimitsUsage(): string {
  return [
    '  --registry-limit NAME=VALUE  (repeatable) past one, a registry keeps its previous content and shows the',
    '                       error on the status page; NAME (default, meaning) is one of:',
    ...namedLimitRows(flag, maxLimitValue),
  ].join('\n');
}

/** What `--registry-limit` sets: the registry limits and the parse options. */
export interface RegistryLimitFlags {
  readonly limits: Partial<RegistryLimits>;
  readonly parse: Partial<RegistryParseFlags>;
}

/**
 * Parses the `--registry-limit` values, or returns one line naming the first problem: not `NAME=VALUE`, an unknown
 * name (with the known ones), a value outside its range (a whole number from 1 to {@link maxLimitValue} for the
 * registry limits), or a name given twice.
 */
export function parseRegistryLimitFlags(
  values: string | boolean | string[] | undefined,
): RegistryLimitFlags | string {
  const named = parseNamedLimits(flag, values);
  if (typeof named === 'string') return named;
  const limits: Record<string, number> = {};
  const parse: Record<string, number> = {};
  for (const [name, value] of Object.entries(named)) {
    if (Object.hasOwn(registryParseLimits, name)) parse[name] = value;
    else limits[name] = value;
  }
  return { limits: limits as Partial<RegistryLimits>, parse: parse as Partial<RegistryParseFlags> };
}
