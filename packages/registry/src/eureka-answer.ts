/**
 * What the Eureka adapter keeps of an answer (`/apps` or `/apps/delta`): each instance's key (`APP/instanceId`),
 * whether it was deleted, and only the fields its services are built from. Apart from the adapter so that the
 * registry's parse worker (parse-worker.ts) makes it where the answer is parsed, off the event loop (rule L4: a
 * 64 MiB answer parsed on the event loop held every xDS client), and only this crosses back.
 */
import type { EurekaInstance } from './eureka-services.js';

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
 * are kept: the adapter holds at most `maxInstances` instances anyway.
 */
export function eurekaEntries(
  value: unknown,
  maxInstances: number,
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
      const key = `${instance.app ?? name ?? ''}/${instance.instanceId ?? instance.ipAddr ?? ''}`;
      items.push({ key, deleted: gone, instance: keptOf(instance) });
    }
  }
  return { meta: { hashcode }, items };
}

/**
 * What is kept of an instance: the fields the services are built from, and nothing else (probe5 P6). Eureka's
 * instances carry many fields we do not read (dataCenterInfo, leaseInfo, URLs), and a hostile or broken server can
 * add any: kept whole, 2 instances of 10 MB of unused text per delta took RSS 280 → 491 MiB in 20 s, under every
 * count limit. Metadata is kept: it becomes labels, bounded there by `maxInstanceLabelBytes`.
 */
export function keptOf(instance: EurekaInstance): EurekaInstance {
  const { instanceId, app, ipAddr, status, vipAddress, port, securePort, metadata, lastUpdatedTimestamp } =
    instance;
  return {
    ...(instanceId === undefined ? {} : { instanceId }),
    ...(app === undefined ? {} : { app }),
    ...(ipAddr === undefined ? {} : { ipAddr }),
    ...(status === undefined ? {} : { status }),
    ...(vipAddress === undefined ? {} : { vipAddress }),
    ...(isObject(port) ? { port: portKept(port) } : {}),
    ...(isObject(securePort) ? { securePort: portKept(securePort) } : {}),
    ...(metadata === undefined ? {} : { metadata }),
    ...(lastUpdatedTimestamp === undefined ? {} : { lastUpdatedTimestamp }),
  };
}

type EurekaPort = NonNullable<EurekaInstance['port']>;

function isObject(value: unknown): value is EurekaPort {
  return typeof value === 'object' && value !== null;
}

function portKept(port: EurekaPort): EurekaPort {
  const { $, '@enabled': enabled } = port;
  return { ...($ === undefined ? {} : { $ }), ...(enabled === undefined ? {} : { '@enabled': enabled }) };
}
