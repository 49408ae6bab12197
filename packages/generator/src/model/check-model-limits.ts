// The model limits on a model that no single file holds (rule L2; review finding R5). parseModel bounds what a file
// expands to, but a server that merges the file with service registries generates from the merge: a registry of a
// million instances, or a file service whose subsets each select every instance a registry brings, passes every cap
// the file's reader applied. modelLimitIssues applies the same limits to a built model (the merge), before it is
// generated, and names the service at which a total passed its limit, so that the caller can name where it came from.
import { runSliced, runSteps, type SliceOptions, type Steps } from '../generate/steps.js';
import { checkExpansion } from './check-expansion.js';
import type { Issue } from './model-error.js';
import { formatCount, type ModelLimits, resolveModelLimits } from './model-limits.js';
import { inferProtocol } from './protocol.js';
import type { Service, ServiceModel } from './types.js';

/** Fields whose value here is the default a file leaves out: they are not counted. */
const defaults: Readonly<Record<string, unknown>> = Object.freeze({
  weight: 1,
  healthy: true,
  priority: 0,
  prefix: '/',
  namespace: 'default',
  domain: 'cluster.local',
});

/** The values of a mapping's fields as written: a key and its value each, empty and default values left out. */
function fieldValues(value: object, skip?: ReadonlySet<string>): number {
  let n = 0;
  for (const key in value) {
    if (skip?.has(key)) continue;
    const field = (value as Record<string, unknown>)[key];
    if (field === undefined || field === '' || defaults[key] === field) continue;
    if (Array.isArray(field)) {
      if (field.length > 0) n += 1 + listValues(field);
    } else if (typeof field === 'object' && field !== null) {
      const inner = fieldValues(field);
      if (inner > 0) n += 2 + inner;
    } else n += 2;
  }
  return n;
}

function listValues(list: readonly unknown[]): number {
  let n = 1;
  for (const item of list) {
    n += Array.isArray(item)
      ? listValues(item)
      : typeof item === 'object' && item !== null
        ? 1 + fieldValues(item)
        : 1;
  }
  return n;
}

/** A service's fields counted on their own: its ports as written, its endpoints one at a time. */
const countedApart: ReadonlySet<string> = new Set(['ports', 'endpoints']);

/** A port as written: its number, and its name and protocol unless they are what the others imply. */
function portValues(service: Service): number {
  let n = 0;
  for (const port of service.ports) {
    n += 3;
    if (port.name !== `${port.protocol.toLowerCase()}-${port.port}`) n += 2;
    if (port.protocol !== inferProtocol(port.name)) n += 2;
  }
  return service.ports.length === 0 ? 0 : n + 2;
}

/** Endpoints counted between two pauses of the sliced check. */
const endpointsPerStep = 256;

/**
 * The index of the service at which the model's values (mappings, lists, keys and scalars, counted as a file would
 * write them, with default and empty values left out) pass `max`, or undefined when they do not. Stops counting
 * past `max`, so its own work is bounded by it; yields every {@link endpointsPerStep} endpoints.
 */
function* serviceOverSize(model: ServiceModel, max: number): Steps<number | undefined> {
  let n = 3 + (model.domain === defaults['domain'] ? 0 : 2); // the root, `services` and its list
  for (const [i, service] of model.services.entries()) {
    n += 1 + fieldValues(service, countedApart) + portValues(service);
    if (service.endpoints.length > 0) n += 2;
    for (const [e, endpoint] of service.endpoints.entries()) {
      n += 1 + fieldValues(endpoint);
      if (n > max) return i;
      if (e % endpointsPerStep === endpointsPerStep - 1) yield;
    }
    if (n > max) return i;
    yield;
  }
  return undefined;
}

function* limitSteps(model: ServiceModel, limits: Partial<ModelLimits>): Steps<Issue[]> {
  const resolved = resolveModelLimits(limits);
  for (const [i, service] of model.services.entries()) {
    if (service.subsets.length > resolved.maxSubsetsPerService) {
      return [
        {
          path: ['services', i, 'subsets'],
          message: `${formatCount(service.subsets.length)} subsets, more than ${formatCount(resolved.maxSubsetsPerService)}; the limit is maxSubsetsPerService`,
        },
      ];
    }
  }
  const over = yield* serviceOverSize(model, resolved.maxNodes);
  if (over !== undefined) {
    return [
      {
        path: ['services', over],
        message:
          `the services up to this one hold more than ${formatCount(resolved.maxNodes)} values (mappings, lists, ` +
          'keys and scalars, as written with defaults left out); the limit is maxNodes',
      },
    ];
  }
  const issues: Issue[] = [];
  checkExpansion(model, resolved, issues);
  return issues;
}

/**
 * The issues of a built model (one made by code, such as a model file merged with service registries) against the
 * limits that bound what generating it costs: `maxSubsetsPerService`, then `maxNodes` (the model's values as a
 * file would write them, defaults left out: an alias-free file of the same model counts at least as many), then
 * `maxGeneratedClusters` and `maxGeneratedEndpoints` (as {@link parseModel} counts them). At most one issue, whose
 * path is the service (`['services', 3]`, or `['services', 3, 'subsets']`) at which the limit was passed. Never
 * throws; its work is bounded by the limits. Unset limits take `defaultModelLimits`.
 */
export function modelLimitIssues(model: ServiceModel, limits: Partial<ModelLimits> = {}): Issue[] {
  return runSteps(limitSteps(model, limits));
}

/**
 * {@link modelLimitIssues} in time slices (rule L4): counting a model of 100,000 endpoints takes about 40 ms, and
 * a server that checks every merge answers xDS meanwhile. Rejects with the signal's reason when it is aborted.
 */
export function modelLimitIssuesAsync(
  model: ServiceModel,
  limits: Partial<ModelLimits> = {},
  options: SliceOptions = {},
): Promise<Issue[]> {
  return runSliced(limitSteps(model, limits), options);
}
