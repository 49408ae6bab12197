/**
 * What is made of a registry server's answer where it is parsed (rule L4: nothing a registry answers may stall the
 * server). A Kubernetes list page (up to `maxPageBytes`), a Consul or a Eureka answer (up to
 * `maxRegistryResponseBytes`) is parsed by the registry's parse worker (body-parser.ts), off the event loop, and
 * reduced there to what the adapter keeps: the compacted objects of a page, a service's instances, the kept fields of
 * Eureka instances. Only that crosses back to the event loop, in chunks, with a bound on how many: past the bound,
 * only the count comes back and the adapter reports the limit. The same functions run on the event loop for bodies
 * small enough to parse there (`inlineParseBytes`), so both paths give the same result.
 */
import { consulService, type HealthEntry } from './consul-service.js';
import { type EurekaEntry, eurekaEntries } from './eureka-answer.js';
import {
  compactPod,
  compactService,
  compactSlice,
  type KubePod,
  type KubeService,
  type KubeSlice,
  kubeKey,
} from './kube-compact.js';
import type { RegistryInstance, RegistryPort } from './types.js';

/** The Kubernetes kinds the adapter lists. */
export type KubeObjects = 'services' | 'endpointslices' | 'pods';

/** A Kubernetes list page: each object's `namespace/name` and what is kept of it. */
export interface KubePageJob {
  readonly kind: 'kube-page';
  readonly objects: KubeObjects;
  /** `maxInstanceLabelBytes`: a Pod's labels past it are not kept. */
  readonly maxLabelBytes: number;
  /** The most objects the page may hold (what is left of `maxRegistryObjects`): past it, only the count comes back. */
  readonly maxItems: number;
}

/** A page's list metadata, and how many objects it holds. */
export interface KubePageMeta {
  /** Whether the answer is a list (an object with an `items` array). */
  readonly list: boolean;
  /** The objects in the page (all of them, counted before anything is compacted). */
  readonly count: number;
  readonly resourceVersion: string;
  /** The `continue` token; empty on the last page. */
  readonly continue: string;
}

/** A Kubernetes object as kept, with its key. */
export type KubeKept = readonly [string, KubeService | KubeSlice | KubePod];

/** Consul's `/v1/catalog/services`: the service names (sorted, without `consul`). */
export interface ConsulCatalogJob {
  readonly kind: 'consul-catalog';
  /** `maxRegistryServices`: past it, only the count comes back. */
  readonly maxNames: number;
}

/** How many names the catalog lists. */
export interface ConsulCatalogMeta {
  readonly count: number;
}

/** Consul's `/v1/health/service/NAME`: the service built from it. */
export interface ConsulHealthJob {
  readonly kind: 'consul-health';
  readonly name: string;
  /** `maxInstancesPerService`: one instance past it is enough for the service to be refused naming the limit. */
  readonly maxInstances: number;
  /** `maxInstanceLabelBytes`: an instance whose labels are larger is left out where the answer is parsed. */
  readonly maxLabelBytes: number;
}

/** The service's ports and how many entries the answer held (its instances come as the items). */
export interface ConsulHealthMeta {
  /** Whether the answer is an array. */
  readonly array: boolean;
  readonly entries: number;
  readonly ports: readonly RegistryPort[];
  /** Why instances were left out (Meta or Tags of the wrong shape, labels too large): the first 20 reasons. */
  readonly refused: readonly string[];
  /** How many instances were left out. */
  readonly leftOut: number;
}

/** Eureka's `/apps` or `/apps/delta`: the kept fields of each instance (see eureka-answer.ts). */
export interface EurekaAppsJob {
  readonly kind: 'eureka-apps';
  /** The adapter's `maxInstances`: at most this many entries are kept of each action (deleted or not). */
  readonly maxInstances: number;
  /** `maxInstanceLabelBytes`: an instance whose metadata is larger is kept only as the reason. */
  readonly maxLabelBytes: number;
}

/** The server's reconcile hash of the answer, if any. */
export interface EurekaAppsMeta {
  readonly hashcode: string | undefined;
}

/** Every reduction the parse worker knows. */
export type ParseJob = KubePageJob | ConsulCatalogJob | ConsulHealthJob | EurekaAppsJob;

/** What a reduction makes: its metadata and its items (which cross to the event loop in chunks). */
export interface JobOutput<M, I> {
  readonly meta: M;
  readonly items: I[];
}

/** The output of each kind of job. */
export type OutputOf<J extends ParseJob> = J extends KubePageJob
  ? JobOutput<KubePageMeta, KubeKept>
  : J extends ConsulCatalogJob
    ? JobOutput<ConsulCatalogMeta, string>
    : J extends ConsulHealthJob
      ? JobOutput<ConsulHealthMeta, RegistryInstance>
      : J extends EurekaAppsJob
        ? JobOutput<EurekaAppsMeta, EurekaEntry>
        : never;

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function kubePage(job: KubePageJob, value: unknown): OutputOf<KubePageJob> {
  const page = value as {
    items?: unknown;
    metadata?: { resourceVersion?: unknown; continue?: unknown };
  } | null;
  if (typeof page !== 'object' || page === null || !Array.isArray(page.items))
    return { meta: { list: false, count: 0, resourceVersion: '', continue: '' }, items: [] };
  const meta: KubePageMeta = {
    list: true,
    count: page.items.length,
    resourceVersion: text(page.metadata?.resourceVersion),
    continue: text(page.metadata?.continue),
  };
  // counted before any is compacted: a page past the bound costs its parse, nothing more
  if (page.items.length > job.maxItems) return { meta, items: [] };
  const items: KubeKept[] = [];
  for (const object of page.items as unknown[]) {
    // a hostile page's `null` is an object with no name, as before
    const one = (typeof object === 'object' && object !== null ? object : {}) as never;
    const kept =
      job.objects === 'services'
        ? compactService(one)
        : job.objects === 'endpointslices'
          ? compactSlice(one)
          : compactPod(one, job.maxLabelBytes);
    items.push([kubeKey(one), kept]);
  }
  return { meta, items };
}

function consulCatalog(job: ConsulCatalogJob, value: unknown): OutputOf<ConsulCatalogJob> {
  const body = typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {};
  const names = Object.keys(body).filter((name) => name !== 'consul');
  if (names.length > job.maxNames) return { meta: { count: names.length }, items: [] };
  return { meta: { count: names.length }, items: names.sort() };
}

function consulHealth(job: ConsulHealthJob, value: unknown): OutputOf<ConsulHealthJob> {
  if (!Array.isArray(value))
    return { meta: { array: false, entries: 0, ports: [], refused: [], leftOut: 0 }, items: [] };
  const { service, refused, leftOut } = consulService(job.name, value as HealthEntry[], job.maxLabelBytes);
  return {
    meta: { array: true, entries: value.length, ports: service.ports, refused, leftOut },
    // one past the limit is enough for the service to be refused naming it: the rest does not cross
    items: service.instances.slice(0, job.maxInstances + 1),
  };
}

/** Runs `job` on a parsed answer; a hostile object that the compaction cannot read throws, as it did on the event loop. */
export function runJob<J extends ParseJob>(job: J, value: unknown): OutputOf<J> {
  switch (job.kind) {
    case 'kube-page':
      return kubePage(job, value) as OutputOf<J>;
    case 'consul-catalog':
      return consulCatalog(job, value) as OutputOf<J>;
    case 'consul-health':
      return consulHealth(job, value) as OutputOf<J>;
    case 'eureka-apps':
      return eurekaEntries(value, job.maxInstances, job.maxLabelBytes) as OutputOf<J>;
  }
  throw new Error(`unknown parse job ${(job as { kind: string }).kind}`);
}
