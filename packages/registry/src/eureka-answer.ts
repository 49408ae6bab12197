/**
 * What the Eureka adapter keeps of an answer (`/apps` or `/apps/delta`): each instance's key (`APP/instanceId`),
 * whether it was deleted, and only the fields its services are built from. Apart from the adapter so that the
 * registry's parse worker (parse-worker.ts) makes it where the answer is parsed, off the event loop (rule L4: a
 * 64 MiB answer parsed on the event loop held every xDS client), and only this crosses back. No kept text is past a
 * bound (review Q9: a hostile or broken server, or anyone who can register, made the adapter hold strings of any
 * length per instance): an instance whose text is past one is kept only as its key, its status and its reason
 * (`refused`), and left out of the services with that reason naming it.
 */
import { labelBytes } from './check-service.js';
import type { EurekaInstance } from './eureka-services.js';
import { boundedKey, maxKeptLabelLength, maxKeptNameLength, quoted, textProblem } from './kept-text.js';

/** One instance of an answer, as kept. */
export interface EurekaEntry {
  /** `APP/instanceId` (the application's name and the instance's address when those are missing). */
  readonly key: string;
  /** Its `actionType` was `DELETED` (a delta). */
  readonly deleted: boolean;
  /** The kept fields. */
  readonly instance: EurekaInstance;
}

interface Applications {
  readonly applications?: {
    readonly apps__hashcode?: unknown;
    readonly application?: unknown;
  };
}

/**
 * The entries of an answer and its reconcile hash. At most `maxInstances` entries of each action (deleted or not)
 * are kept: the adapter holds at most `maxInstances` instances anyway. `maxLabelBytes` (`maxInstanceLabelBytes`)
 * bounds an instance's metadata.
 */
export function eurekaEntries(
  value: unknown,
  maxInstances: number,
  maxLabelBytes: number,
): { meta: { hashcode: string | undefined }; items: EurekaEntry[] } {
  const apps = (typeof value === 'object' && value !== null ? (value as Applications) : {}).applications;
  const hashcode = typeof apps?.apps__hashcode === 'string' ? apps.apps__hashcode : undefined;
  const items: EurekaEntry[] = [];
  let live = 0;
  let deleted = 0;
  for (const app of Array.isArray(apps?.application) ? apps.application : []) {
    const name = (app as { name?: unknown } | null)?.name;
    const list = (app as { instance?: unknown } | null)?.instance;
    for (const instance of Array.isArray(list) ? (list as EurekaInstance[]) : []) {
      if (typeof instance !== 'object' || instance === null) continue;
      const gone = instance.actionType === 'DELETED';
      if (gone ? deleted++ >= maxInstances : live++ >= maxInstances) continue;
      const key = boundedKey(
        text(instance.app) ?? text(name) ?? '',
        text(instance.instanceId) ?? text(instance.ipAddr) ?? '',
      );
      items.push({ key, deleted: gone, instance: keptOf(instance, maxLabelBytes) });
    }
  }
  return { meta: { hashcode }, items };
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The longest `vipAddress` kept: {@link maxEurekaVipsPerInstance} VIPs of a DNS subdomain each, and their commas. */
export const maxVipAddressLength = 32 * (maxKeptNameLength + 1);

/** The longest port number text kept (`"8080"`, with room for spaces and a sign). */
const maxPortText = 16;

/**
 * What is kept of an instance: the fields the services are built from, and nothing else (probe5 P6). Eureka's
 * instances carry many fields we do not read (dataCenterInfo, leaseInfo, URLs), and a hostile or broken server can
 * add any: kept whole, 2 instances of 10 MB of unused text per delta took RSS 280 → 491 MiB in 20 s, under every
 * count limit. The kept text is bounded too: `ipAddr` by {@link maxKeptNameLength}, `status` by
 * {@link maxKeptLabelLength}, `vipAddress` by {@link maxVipAddressLength}, a port's number by 16 characters, and
 * the metadata (which becomes labels) by `maxLabelBytes` of keys and values; metadata that is not a map (a string
 * would be one label per character) is refused too. Past any of them, only the status (for the reconcile hash),
 * the version and the reason are kept.
 */
export function keptOf(instance: EurekaInstance, maxLabelBytes: number): EurekaInstance {
  const { ipAddr, status, vipAddress, port, securePort, metadata, lastUpdatedTimestamp } = instance;
  const version = Number(lastUpdatedTimestamp);
  const versioned =
    lastUpdatedTimestamp === undefined || !Number.isFinite(version) ? {} : { lastUpdatedTimestamp: version };
  const refused =
    optional('ipAddr', ipAddr, maxKeptNameLength) ??
    optional('status', status, maxKeptLabelLength) ??
    optional('vipAddress', vipAddress, maxVipAddressLength) ??
    portProblem('port', port) ??
    portProblem('securePort', securePort) ??
    metadataProblem(metadata, maxLabelBytes);
  if (refused !== undefined) {
    const kept = typeof status === 'string' && status.length <= maxKeptLabelLength ? { status } : {};
    return { ...kept, ...versioned, refused };
  }
  return {
    ...(ipAddr === undefined ? {} : { ipAddr }),
    ...(status === undefined ? {} : { status }),
    ...(vipAddress === undefined ? {} : { vipAddress }),
    ...(isObject(port) ? { port: portKept(port) } : {}),
    ...(isObject(securePort) ? { securePort: portKept(securePort) } : {}),
    ...(metadata === undefined ? {} : { metadata: stringsOf(metadata) }),
    ...versioned,
  };
}

/** Why an optional text field is not kept, or undefined. */
function optional(what: string, value: unknown, max: number): string | undefined {
  if (value === undefined || value === null) return undefined;
  return textProblem(what, value, max, 'kept text');
}

type EurekaPort = NonNullable<EurekaInstance['port']>;

function isObject(value: unknown): value is EurekaPort {
  return typeof value === 'object' && value !== null;
}

function portProblem(what: string, port: unknown): string | undefined {
  if (!isObject(port)) return undefined;
  const number = port.$;
  if (typeof number === 'string' && number.length > maxPortText)
    return `${what}.$ is ${number.length} characters, over the limit of ${maxPortText}`;
  return undefined;
}

function portKept(port: EurekaPort): EurekaPort {
  const { $, '@enabled': enabled } = port;
  const number = typeof $ === 'number' || typeof $ === 'string' ? { $ } : {};
  return {
    ...number,
    ...(enabled === undefined ? {} : { '@enabled': enabled === true || enabled === 'true' }),
  };
}

/** Why metadata is not kept: not a map, or its string keys and values past `maxLabelBytes`; else undefined. */
function metadataProblem(metadata: unknown, maxLabelBytes: number): string | undefined {
  if (metadata === undefined || metadata === null) return undefined;
  if (typeof metadata !== 'object' || Array.isArray(metadata))
    return `its metadata is ${quoted(metadata)}, not a map of strings`;
  const bytes = labelBytes(stringsOf(metadata as Record<string, unknown>));
  return bytes > maxLabelBytes
    ? `its metadata is ${bytes} bytes, over the limit of ${maxLabelBytes} (maxInstanceLabelBytes)`
    : undefined;
}

/** The entries of a map whose values are strings, without Eureka's `@class` (the Java type of the map). */
function stringsOf(map: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(map)) {
    if (key !== '@class' && typeof value === 'string') out[key] = value;
  }
  return out;
}
