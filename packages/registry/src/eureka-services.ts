/**
 * Eureka instances into registry services, one service per VIP (Eureka's `vipAddress` is a comma-separated list, so
 * an instance is served under each of its VIPs), bounded before anything is built (rules L2 and L4: a registry must
 * not stall xDS). One hostile answer of 1,000 instances with 2,000 VIPs each (14 MB, within every other limit) used
 * to expand into 2,000,000 endpoints and block the event loop for minutes. Now:
 *
 * - an instance listing more than {@link maxEurekaVipsPerInstance} VIPs is left out with an item error naming it;
 * - the expansion is counted first (instances × their VIPs) and, past `maxRegistryInstances`, nothing is built: the
 *   registry reports a `limit` problem and keeps its last good services;
 * - what is built is kept by object: an instance object seen before is not parsed again, and a VIP whose instances
 *   are the same objects as last time keeps its service object, so `RegistryBase` does not check, sort or fingerprint
 *   it again. An update costs what changed.
 */
import type { Protocol } from '@xds/generator';
import { registryInstancesProblem } from './check-service.js';
import { defaultPortName, portFromText, protocolFromValue } from './protocol.js';
import { maxItemErrors } from './registry-base.js';
import type { RegistryLimits } from './registry-limits.js';
import type { RegistryInstance, RegistryPort, RegistryProblem, RegistryService } from './types.js';

/** The most VIPs one Eureka instance may list in its `vipAddress`; an instance with more is left out and reported. */
export const maxEurekaVipsPerInstance = 32;

/** A Eureka instance as JSON, the fields used. */
export interface EurekaInstance {
  readonly instanceId?: string;
  readonly app?: string;
  readonly ipAddr?: string;
  readonly status?: string;
  readonly vipAddress?: string;
  readonly port?: { readonly $?: number | string; readonly '@enabled'?: string | boolean };
  readonly securePort?: { readonly $?: number | string; readonly '@enabled'?: string | boolean };
  readonly metadata?: Readonly<Record<string, string>>;
  readonly actionType?: string;
  /** When the server last changed this instance (ms since the epoch, a number or its text): its version. */
  readonly lastUpdatedTimestamp?: string | number;
  /** Set on a kept instance whose text was past a bound (eureka-answer.ts): why it is left out. */
  readonly refused?: string;
}

/** What {@link EurekaServiceBuilder.build} made. */
export type EurekaBuild =
  | {
      /** The services, one per VIP. */
      readonly services: RegistryService[];
      /** Why instances were left out: the first {@link maxItemErrors} reasons. */
      readonly problems: RegistryProblem[];
      /** How many instances were left out. */
      readonly leftOut: number;
      readonly overLimit?: undefined;
    }
  | {
      /** The count over `maxRegistryInstances`: nothing was built. */
      readonly overLimit: string;
    };

/**
 * The VIPs of a `vipAddress` (trimmed, lower case, empty ones skipped), or undefined when it lists more than `max`:
 * the text is read only up to the VIP past the limit.
 */
export function eurekaVips(text: string | undefined, max: number): string[] | undefined {
  const vips: string[] = [];
  if (typeof text !== 'string') return vips;
  let start = 0;
  while (start <= text.length) {
    const comma = text.indexOf(',', start);
    const end = comma === -1 ? text.length : comma;
    const vip = text.slice(start, end).trim().toLowerCase();
    if (vip !== '') {
      if (vips.length === max) return undefined;
      vips.push(vip);
    }
    if (comma === -1) break;
    start = comma + 1;
  }
  return vips;
}

function enabled(flag: string | boolean | undefined): boolean {
  return flag === true || flag === 'true';
}

function instancePort(instance: EurekaInstance): number | undefined {
  const plain = instance.port;
  const secure = instance.securePort;
  const chosen = enabled(plain?.['@enabled']) || !enabled(secure?.['@enabled']) ? plain : secure;
  return portFromText(chosen?.$ === undefined ? undefined : String(chosen.$));
}

/** One Eureka instance read once: what every VIP's copy of it shares, or why it is left out. */
type Parsed =
  | {
      readonly ok: true;
      readonly vips: readonly string[];
      readonly address: string;
      readonly port: number;
      readonly servicePort: number;
      readonly protocol: Protocol;
      readonly labels: Readonly<Record<string, string>>;
      readonly locality: RegistryInstance['locality'];
      readonly healthy: boolean;
    }
  | {
      readonly ok: false;
      /** Why it is left out and reported; undefined for an instance without an address or port (skipped). */
      readonly problem: string | undefined;
    };

/** A parsed instance that is served. */
type Served = Extract<Parsed, { ok: true }>;

function parse(key: string, instance: EurekaInstance): Parsed {
  if (instance.refused !== undefined)
    return { ok: false, problem: `instance ${key} left out: ${instance.refused}` };
  const port = instancePort(instance);
  if (typeof instance.ipAddr !== 'string' || port === undefined) return { ok: false, problem: undefined };
  const vips = eurekaVips(instance.vipAddress, maxEurekaVipsPerInstance);
  if (vips === undefined) {
    return {
      ok: false,
      problem: `instance ${key} lists more VIPs in vipAddress than the limit of ${maxEurekaVipsPerInstance} (maxEurekaVipsPerInstance)`,
    };
  }
  const labels: Record<string, string> = {};
  for (const [name, value] of Object.entries(instance.metadata ?? {})) {
    if (name !== '@class' && typeof value === 'string') labels[name] = value;
  }
  return {
    ok: true,
    vips,
    address: instance.ipAddr,
    port,
    servicePort: portFromText(labels['service_port']) ?? port,
    protocol: protocolFromValue(labels['protocol']) ?? 'TCP',
    labels,
    locality: { region: '', zone: labels['zone'] ?? '', subZone: '' },
    healthy: instance.status === 'UP',
  };
}

/** A VIP's service as last built, and the parsed instances it was built from (in key order, one object each). */
interface Built {
  readonly members: readonly Served[];
  readonly service: RegistryService;
}

/** Builds the services of a Eureka registry, remembering what it built so an unchanged VIP costs nothing. */
export class EurekaServiceBuilder {
  /** Each instance object, read once (kept while the adapter holds the object). */
  #parsed = new WeakMap<EurekaInstance, Parsed>();
  /** Each VIP's last service. */
  #built = new Map<string, Built>();

  /**
   * The services of `instances` (by `APP/instanceId`, the adapter's map), or the `maxRegistryInstances` problem when
   * their VIPs expand past it (counted before anything is built).
   */
  build(instances: ReadonlyMap<string, EurekaInstance>, limits: RegistryLimits): EurekaBuild {
    const problems: RegistryProblem[] = [];
    let leftOut = 0;
    let total = 0;
    const at = new Date();
    const valid: [string, Served][] = [];
    for (const [key, instance] of instances) {
      let parsed = this.#parsed.get(instance);
      if (parsed === undefined) {
        parsed = parse(key, instance);
        this.#parsed.set(instance, parsed);
      }
      if (!parsed.ok) {
        if (parsed.problem === undefined) continue; // no address or port: not served, as before
        leftOut++;
        if (problems.length < maxItemErrors) problems.push({ message: parsed.problem, item: key, at });
        continue;
      }
      total += parsed.vips.length;
      valid.push([key, parsed]);
    }
    if (total > limits.maxRegistryInstances) return { overLimit: registryInstancesProblem(total, limits) };
    // one order for every replica and every poll: by key (codepoint order, cheap)
    valid.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const members = new Map<string, Served[]>();
    for (const [, parsed] of valid) {
      for (const vip of parsed.vips) {
        let list = members.get(vip);
        if (list === undefined) {
          list = [];
          members.set(vip, list);
        }
        list.push(parsed);
      }
    }
    const built = new Map<string, Built>();
    for (const [vip, list] of members) {
      const before = this.#built.get(vip);
      const same =
        before !== undefined &&
        before.members.length === list.length &&
        before.members.every((parsed, i) => parsed === list[i]);
      built.set(vip, same ? before : { members: list, service: this.#service(vip, list) });
    }
    this.#built = built;
    return { services: [...built.values()].map((b) => b.service), problems, leftOut };
  }

  /** A VIP's service from its instances; the first instance (in key order) with a service port names it. */
  #service(vip: string, list: readonly Served[]): RegistryService {
    const ports = new Map<number, RegistryPort>();
    const instances: RegistryInstance[] = [];
    for (const parsed of list) {
      let port = ports.get(parsed.servicePort);
      if (port === undefined) {
        port = {
          name: defaultPortName(parsed.protocol, parsed.servicePort),
          port: parsed.servicePort,
          protocol: parsed.protocol,
        };
        ports.set(parsed.servicePort, port);
      }
      instances.push({
        address: parsed.address,
        port: parsed.port,
        ports: { [port.name]: parsed.port },
        labels: parsed.labels,
        locality: parsed.locality,
        weight: 1,
        healthy: parsed.healthy,
        onlyNamedPorts: true,
      });
    }
    return { hostname: vip, name: vip, namespace: 'eureka', ports: [...ports.values()], instances };
  }
}
