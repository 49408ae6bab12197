/**
 * A Consul service from the entries of its `/v1/health/service/NAME` answer. Apart from the adapter (consul.ts) so
 * that the registry's parse worker (parse-worker.ts) can build it where the answer is parsed, off the event loop, and
 * hand back only the service (rule L4: a 64 MiB health answer parsed on the event loop held every xDS client).
 * Mapping: hostname `<service>.service.consul`; service meta and `key=value` tags → labels; meta `protocol` → the
 * port's protocol; meta `service_port` → the port clients use (else the instance's port); node datacenter → region;
 * every check passing → healthy; an instance serves only its own port (`onlyNamedPorts`). An instance whose Meta is
 * not a map or whose Tags are not a list (a string would be one label per character; review R12), or whose labels
 * are past `maxInstanceLabelBytes`, is left out here, where the answer is parsed, with a reason naming it.
 */
import type { Protocol } from '@xds/generator';
import { labelBytes } from './check-service.js';
import { maxKeptLabelLength, maxKeptNameLength, quoted, textProblem } from './kept-text.js';
import { defaultPortName, portFromText, protocolFromValue } from './protocol.js';
import type { RegistryInstance, RegistryPort, RegistryService } from './types.js';

/** One entry of `/v1/health/service/NAME`, the fields used. */
export interface HealthEntry {
  readonly Node?: { readonly Address?: string; readonly Datacenter?: string };
  readonly Service?: {
    readonly ID?: string;
    readonly Address?: string;
    readonly Port?: number;
    readonly Tags?: readonly string[] | null;
    readonly Meta?: Readonly<Record<string, string>> | null;
    readonly Weights?: { readonly Passing?: number };
  };
  readonly Checks?: readonly { readonly Status?: string }[];
}

/** The Consul host name of a service. */
export function consulHostname(service: string): string {
  return `${service}.service.consul`;
}

/** The entries of `value` whose values are strings (an object's own keys); empty for anything else. */
function stringEntries(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return out;
  for (const [key, entry] of Object.entries(value)) if (typeof entry === 'string') out[key] = entry;
  return out;
}

/** A Consul service from its health entries, and why the instances left out were. */
export interface ConsulBuilt {
  readonly service: RegistryService;
  /** The reasons of the instances left out, the first `maxReasons`. */
  readonly refused: readonly string[];
  /** How many instances were left out. */
  readonly leftOut: number;
}

/**
 * Why an instance's text is not kept (an address past 253 characters, a datacenter past 63), or its Meta or Tags
 * are not used (not a map, not a list), or undefined.
 */
function shapeProblem(entry: HealthEntry, service: NonNullable<HealthEntry['Service']>): string | undefined {
  const {
    Meta: meta,
    Tags: tags,
    Address: address,
  } = service as { Meta?: unknown; Tags?: unknown; Address?: unknown };
  const node = entry.Node as { Address?: unknown; Datacenter?: unknown } | undefined;
  const text = (what: string, value: unknown, max: number, bound: string): string | undefined =>
    value === undefined || value === null || value === '' ? undefined : textProblem(what, value, max, bound);
  // the address used: the service's, else the node's
  const used = address ? ['its Service.Address', address] : ['its Node.Address', node?.Address];
  const long =
    text(String(used[0]), used[1], maxKeptNameLength, 'a DNS subdomain') ??
    text('its Node.Datacenter', node?.Datacenter, maxKeptLabelLength, 'a DNS label');
  if (long !== undefined) return long;
  const port: unknown = service.Port;
  if (typeof port !== 'number') return `its Service.Port ${quoted(port)} is not a number`;
  if (meta !== undefined && meta !== null && (typeof meta !== 'object' || Array.isArray(meta)))
    return `its Service.Meta is ${quoted(meta)}, not a map of strings`;
  if (tags !== undefined && tags !== null && !Array.isArray(tags))
    return `its Service.Tags is ${quoted(tags)}, not a list of strings`;
  return undefined;
}

/**
 * A Consul service from its health entries. An instance whose Meta or Tags have the wrong shape, or whose labels
 * are past `maxLabelBytes`, is left out; at most `maxReasons` reasons are kept.
 */
export function consulService(
  name: string,
  entries: readonly HealthEntry[],
  maxLabelBytes: number = Number.POSITIVE_INFINITY,
  maxReasons = 20,
): ConsulBuilt {
  const ports = new Map<number, RegistryPort>();
  const instances: RegistryInstance[] = [];
  const refused: string[] = [];
  let leftOut = 0;
  const refuse = (id: unknown, why: string): void => {
    leftOut++;
    if (refused.length < maxReasons)
      refused.push(`instance ${quoted(id)} of service ${quoted(name)} left out: ${why}`);
  };
  const sorted = [...entries].sort((a, b) => (a.Service?.ID ?? '').localeCompare(b.Service?.ID ?? ''));
  for (const entry of sorted) {
    const s = entry.Service;
    const address = s?.Address || entry.Node?.Address;
    if (s === undefined || address === undefined || s.Port === undefined) continue;
    const shape = shapeProblem(entry, s);
    if (shape !== undefined) {
      refuse(s.ID, shape);
      continue;
    }
    // Consul keeps Meta as strings and Tags as a list of strings; an agent (or anything on its plain-HTTP path) that
    // sends other values sends data no client can use: only strings become labels (a nested value would reach
    // every client in EDS metadata, and its depth is unbounded)
    const meta = stringEntries(s.Meta);
    const labels: Record<string, string> = {};
    for (const tag of Array.isArray(s.Tags) ? s.Tags : []) {
      if (typeof tag !== 'string') continue;
      const eq = tag.indexOf('=');
      if (eq > 0) labels[tag.slice(0, eq)] = tag.slice(eq + 1);
    }
    Object.assign(labels, meta);
    const bytes = labelBytes(labels);
    if (bytes > maxLabelBytes) {
      refuse(
        s.ID,
        `its labels are ${bytes} bytes, over the limit of ${maxLabelBytes} (maxInstanceLabelBytes)`,
      );
      continue;
    }
    const servicePort = portFromText(meta['service_port']) ?? s.Port;
    const protocol: Protocol = protocolFromValue(meta['protocol']) ?? 'TCP';
    if (!ports.has(servicePort)) {
      ports.set(servicePort, { name: defaultPortName(protocol, servicePort), port: servicePort, protocol });
    }
    const portName = ports.get(servicePort)!.name;
    instances.push({
      address,
      port: s.Port,
      ports: { [portName]: s.Port },
      labels,
      locality: { region: entry.Node?.Datacenter ?? '', zone: meta['zone'] ?? '', subZone: '' },
      weight: Math.max(1, s.Weights?.Passing ?? 1),
      healthy: (entry.Checks ?? []).every((c) => c.Status === 'passing'),
      onlyNamedPorts: true,
    });
  }
  return {
    service: {
      hostname: consulHostname(name),
      name,
      namespace: 'consul',
      ports: [...ports.values()],
      instances,
    },
    refused,
    leftOut,
  };
}
