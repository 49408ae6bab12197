/**
 * The one check of registry data, where it enters the aggregate (`RegistryBase.replaceServices`, so every adapter
 * goes through it): a registry is data from outside, and what the generator turns into xDS must encode and must be
 * accepted by every client. An instance with an address that is not an IP literal (a host name, `IP:port`, a zone
 * id), a port outside 1…65535 or not whole, a weight outside 1…1,000,000, or labels of more than
 * `maxInstanceLabelBytes` (they go to every client in EDS metadata) is left out; a service whose host name,
 * name or namespace is not a DNS-style name (a control character in a cluster name makes clients refuse the whole
 * stream; a `|` makes cluster names ambiguous, rule L5), or that has no valid port, is left out; each with a reason.
 * The rest is served. Counts over the {@link RegistryLimits} are not left out one by one: they make the whole
 * update a registry error, and the registry keeps its previous content. Registry text a reason quotes (the item's
 * host name, an address, a port name) is cut to `maxQuotedBytes` for display, saying so (review R4: a 100,000-character
 * host name used to be its item label whole).
 */
import { isIP } from 'node:net';
import { quoted } from './kept-text.js';
import type { RegistryLimits } from './registry-limits.js';
import type { RegistryInstance, RegistryPort, RegistryProblem, RegistryService } from './types.js';

/** The largest instance weight: the model file's bound, so that a cluster's weights add up within 2^32 - 1. */
export const maxInstanceWeight = 1_000_000;

/** The largest sum of one service's weights: Envoy's locality weights are uint32. */
export const maxWeightSum = 4_294_967_295;

/** The longest host name, name, namespace or port name. */
export const maxRegistryNameLength = 253;

const namePattern = /^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$/;

/** What {@link checkRegistryServices} keeps and why it left the rest out. */
export interface CheckedServices {
  /** The services to serve, without the items left out. */
  readonly services: RegistryService[];
  /** The reasons, the first `keep` of them (see `dropped` for the count). */
  readonly problems: RegistryProblem[];
  /** How many services, ports and instances were left out. */
  readonly dropped: number;
  /** Set when a count is over a limit: the whole update is refused (the registry keeps its previous content). */
  readonly overLimit?: string;
}

/** Why a name is not served, or undefined when it is fine. */
export function nameProblem(what: string, value: unknown): string | undefined {
  if (typeof value !== 'string') return `${what} is not a string`;
  if (value.length > maxRegistryNameLength)
    return `${what} is ${value.length} characters, more than ${maxRegistryNameLength}`;
  if (!namePattern.test(value))
    return `${what} ${JSON.stringify(value)} is not a name of letters, digits, '-', '_' and '.'`;
  return undefined;
}

function portProblem(what: string, value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535) return undefined;
  return `${what} ${quoted(value)} is not a whole number from 1 to 65535`;
}

/** Why an instance is not served, or undefined when it is fine. */
export function instanceProblem(instance: RegistryInstance): string | undefined {
  const { address } = instance;
  if (typeof address !== 'string' || isIP(address) === 0 || address.includes('%'))
    return `address ${quoted(address)} is not an IP literal`;
  if (instance.port !== undefined) {
    const problem = portProblem('port', instance.port);
    if (problem !== undefined) return problem;
  }
  for (const [name, port] of Object.entries(instance.ports ?? {})) {
    const problem = portProblem(`port ${quoted(name)}`, port);
    if (problem !== undefined) return problem;
  }
  const { weight } = instance;
  if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 1 || weight > maxInstanceWeight)
    return `weight ${quoted(weight)} is not a whole number from 1 to ${maxInstanceWeight}`;
  return undefined;
}

function instanceName(instance: RegistryInstance): string {
  const port = instance.port ?? Object.values(instance.ports ?? {})[0];
  return `${quoted(instance.address)}${port === undefined ? '' : ` port ${quoted(port)}`}`;
}

/** What {@link checkRegistryService} makes of one service. */
export interface CheckedService {
  /** The service to serve, without the items left out; undefined when the whole service is left out. */
  readonly service: RegistryService | undefined;
  /** The reasons, the first `keep` of them (see `dropped` for the count). */
  readonly problems: readonly RegistryProblem[];
  /** How many of its ports and instances (or itself) were left out. */
  readonly dropped: number;
  /** Set when its instances' weights go past uint32: the whole update is refused. */
  readonly overLimit?: string;
}

/** The bytes of a label map's keys and values (UTF-8); a value that is not a string counts as its JSON text. */
export function labelBytes(labels: Readonly<Record<string, string>>): number {
  let bytes = 0;
  for (const [key, value] of Object.entries(labels)) {
    bytes += Buffer.byteLength(key) + (typeof value === 'string' ? Buffer.byteLength(value) : 1);
  }
  return bytes;
}

/**
 * Why an instance's labels are not served, or undefined when they are fine: a label map is an object of string
 * values (an adapter fed a nested value from its server would send it to every client in EDS metadata, unbounded in
 * depth and outside `maxInstanceLabelBytes`), of at most `maxBytes` bytes.
 */
export function labelProblem(labels: unknown, maxBytes: number): string | undefined {
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels))
    return 'its labels are not a map of strings';
  let bytes = 0;
  for (const [key, value] of Object.entries(labels)) {
    if (typeof value !== 'string') return `its label ${quoted(key)} is not a string`;
    bytes += Buffer.byteLength(key) + Buffer.byteLength(value);
  }
  if (bytes > maxBytes)
    return `its labels are ${bytes} bytes, over the limit of ${maxBytes} (maxInstanceLabelBytes)`;
  return undefined;
}

function localityProblem(locality: unknown): string | undefined {
  if (locality === undefined) return undefined;
  if (locality === null || typeof locality !== 'object') return 'its locality is not an object';
  for (const field of ['region', 'zone', 'subZone'] as const) {
    const value = (locality as Record<string, unknown>)[field];
    if (value !== undefined && typeof value !== 'string') return `its locality ${field} is not a string`;
  }
  return undefined;
}

/**
 * Checks one service against the rules above (not the counts of {@link RegistryLimits}, which are over a whole
 * update) and `limits.maxInstanceLabelBytes`; keeps at most `keep` problems, counting the others. Pure: the same
 * service object always gives the same answer, so callers may keep it by object.
 */
export function checkRegistryService(
  service: RegistryService,
  limits: RegistryLimits,
  keep: number,
  at: Date = new Date(),
): CheckedService {
  const problems: RegistryProblem[] = [];
  let dropped = 0;
  // an item label is for display: a registry's host name of any length is cut (review R4)
  const label = typeof service.hostname === 'string' ? quoted(service.hostname) : 'a service';
  const report = (message: string): void => {
    dropped++;
    if (problems.length < keep) problems.push({ item: label, message, at });
  };
  const serviceProblem =
    nameProblem('host name', service.hostname) ??
    nameProblem('name', service.name) ??
    nameProblem('namespace', service.namespace);
  if (serviceProblem !== undefined) {
    report(`service left out: ${serviceProblem}`);
    return { service: undefined, problems, dropped };
  }
  const ports: RegistryPort[] = [];
  const numbers = new Set<number>();
  const names = new Set<string>();
  for (const port of service.ports) {
    const problem =
      portProblem('port', port.port) ??
      nameProblem('port name', port.name) ??
      (numbers.has(port.port) ? `port ${port.port} is given twice` : undefined) ??
      (names.has(port.name) ? `port name ${JSON.stringify(port.name)} is given twice` : undefined);
    if (problem !== undefined) {
      report(`port left out: ${problem}`);
      continue;
    }
    numbers.add(port.port);
    names.add(port.name);
    ports.push(port);
  }
  if (ports.length === 0) {
    report('service left out: it has no valid port');
    return { service: undefined, problems, dropped };
  }
  const instances: RegistryInstance[] = [];
  let weights = 0;
  const maxLabelBytes = limits.maxInstanceLabelBytes;
  for (const instance of service.instances) {
    const problem =
      instanceProblem(instance) ??
      labelProblem(instance.labels ?? {}, maxLabelBytes) ??
      localityProblem(instance.locality);
    if (problem !== undefined) {
      report(`instance ${instanceName(instance)} left out: ${problem}`);
      continue;
    }
    weights += instance.weight;
    instances.push(instance);
  }
  if (weights > maxWeightSum) {
    return {
      service: undefined,
      problems: [],
      dropped: 0,
      overLimit: `service ${label}: its instances' weights add up to ${weights}, more than ${maxWeightSum} (uint32)`,
    };
  }
  const kept =
    ports.length === service.ports.length && instances.length === service.instances.length
      ? service
      : { ...service, ports, instances };
  return { service: kept, problems, dropped };
}

/**
 * The counts of a whole update over the {@link RegistryLimits} (services, instances per service, instances over all
 * services), or undefined when they are within them.
 */
export function countProblem(
  services: readonly RegistryService[],
  limits: RegistryLimits,
): string | undefined {
  if (services.length > limits.maxRegistryServices)
    return `${services.length} services is over the limit of ${limits.maxRegistryServices} (maxRegistryServices)`;
  let total = 0;
  for (const service of services) {
    if (service.instances.length > limits.maxInstancesPerService)
      return `service ${quoted(service.hostname)} has ${service.instances.length} instances, over the limit of ${limits.maxInstancesPerService} (maxInstancesPerService)`;
    total += service.instances.length;
  }
  return total > limits.maxRegistryInstances ? registryInstancesProblem(total, limits) : undefined;
}

/**
 * The problem of a registry whose services hold `total` instances together, over `maxRegistryInstances`. Adapters
 * whose data expands (a Eureka instance per VIP) count first with it, and build nothing past the limit.
 */
export function registryInstancesProblem(total: number, limits: RegistryLimits): string {
  return `${total} instances over all services is over the limit of ${limits.maxRegistryInstances} (maxRegistryInstances)`;
}

/**
 * Checks a registry's services against the {@link RegistryLimits} and the rules above; keeps at most `keep`
 * problems (a registry full of bad data must not grow memory), counting the others.
 */
export function checkRegistryServices(
  input: Iterable<RegistryService>,
  limits: RegistryLimits,
  keep: number,
): CheckedServices {
  const services = [...input];
  const counts = countProblem(services, limits);
  if (counts !== undefined) return overLimit(counts);
  const problems: RegistryProblem[] = [];
  let dropped = 0;
  const at = new Date();
  const kept: RegistryService[] = [];
  for (const service of services) {
    const checked = checkRegistryService(service, limits, keep, at);
    if (checked.overLimit !== undefined) return overLimit(checked.overLimit);
    dropped += checked.dropped;
    for (const problem of checked.problems) if (problems.length < keep) problems.push(problem);
    if (checked.service !== undefined) kept.push(checked.service);
  }
  return { services: kept, problems, dropped };
}

function overLimit(message: string): CheckedServices {
  return { services: [], problems: [], dropped: 0, overLimit: message };
}
