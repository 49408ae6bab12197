/**
 * The Kubernetes adapter (`@kubernetes/client-node` 1.4.x): Services, EndpointSlices (`discovery.k8s.io/v1`) and
 * Pods, each listed and then watched from the list's `resourceVersion` (bookmarks keep it current); a watch that
 * ends is resumed from the last version seen, and `410 Gone` (the version was compacted) lists again.
 * Mapping: hostname `<svc>.<ns>.svc.<domain>`; port protocol from `appProtocol`, else the port name's prefix;
 * endpoint `ready` → healthy (unset counts as ready, as Kubernetes says); `zone` → zone; the Pod's labels → labels.
 * Each kind is listed and watched by a ListWatch (kube-list-watch.ts). Lists are read in pages of `listPageSize`
 * (kube-list.ts), each page and each watch event line bounded by
 * `maxPageBytes` (and `maxRegistryResponseBytes`), so no answer is parsed whole on the event loop (probe4 F4): past
 * it, a registry error naming the limit, and the previous content stays. A watch that ends early (sooner than
 * `minWatchMs`, without an event) is opened again only after a backoff, and the registry is stale naming it meanwhile
 * (probe4 F10: such watches were opened again at once, over a hundred a second).
 * Only what the mapping reads is kept of each object (names, ports, addresses, readiness, zone, the Pod's labels),
 * not specs, statuses and managedFields (rule L2: a cluster's Pods held whole took a gigabyte). Each kind holds at
 * most `maxRegistryObjects` objects: a list or a watch past it is a registry error naming the limit, the previous
 * services stay, and it lists again after a backoff. No kept text is past Kubernetes' own limits (kube-compact.ts):
 * an object with longer text is reported, naming it; a Pod's labels past them or past `maxInstanceLabelBytes` are not
 * kept and its endpoints are left out, naming the limit. A service's output is made again only when its Service, its slices or
 * their Pods changed (compared by object), so an update costs what changed, not what is held.
 */

import type { KubeConfig, V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import { messageOf } from './backoff.js';
import { BodyParser, type ParseCounts, type RegistryParseOptions } from './body-parser.js';
import {
  compactPod,
  compactService,
  compactSlice,
  type KubePod,
  type KubeService,
  type KubeSlice,
} from './kube-compact.js';
import type { KeepSpec, PageBounds } from './kube-list.js';
import { type KubeTimes, ListWatch } from './kube-list-watch.js';
import { type Built, kubernetesServices } from './kube-objects.js';
import { loadKubeconfig } from './kubeconfig-file.js';
import { RegistryBase } from './registry-base.js';
import type { RegistryLimits } from './registry-limits.js';

/** Options of {@link KubernetesRegistry}. */
export interface KubernetesRegistryOptions {
  /** The cluster domain; default `cluster.local`. */
  readonly domain?: string;
  /** The largest delay between retries, in milliseconds; default 5,000. */
  readonly maxBackoffMs?: number;
  /** Bounds on its content; unset ones take `defaultRegistryLimits`. */
  readonly limits?: Partial<RegistryLimits>;
  /**
   * The `timeoutSeconds` asked of kube-apiserver for each watch; default 300. A watch it has not ended 30 s after
   * that is abandoned by this side (a dead or hostile peer does not end it) and resumed from the last version.
   */
  readonly watchTimeoutSeconds?: number;
  /**
   * The most time a watch may go without a byte, in milliseconds (bookmarks are asked for, and kube-apiserver sends
   * one about every minute); then the watch is abandoned, the registry is stale until a watch is up again, and it
   * watches again from the last version. Default 120,000.
   */
  readonly watchIdleMs?: number;
  /** The most time one list page may take, headers and body, in milliseconds; then it lists again after a backoff. Default 60,000. */
  readonly listTimeoutMs?: number;
  /** The objects asked for in each list page (`limit`); default 500, as kubectl and client-go's pager. */
  readonly listPageSize?: number;
  /**
   * The most bytes of one list page and of one watch event, each parsed at once on the event loop; default 4 MiB
   * (and never more than `limits.maxRegistryResponseBytes`). A page past it is asked again with half the objects,
   * down to one; one object past it is a registry error naming the limit.
   */
  readonly maxPageBytes?: number;
  /**
   * A watch that ends sooner than this after it began, in milliseconds, without an event (bookmarks count), ended
   * early: the next one waits a backoff (with jitter, up to `maxBackoffMs`), the registry is stale and says so,
   * until a watch lasts this long or brings an event. Default 1,000.
   */
  readonly minWatchMs?: number;
  /** How list pages are parsed off the event loop (`BodyParser`); unset ones take `defaultParseOptions`. */
  readonly parse?: Partial<RegistryParseOptions>;
}

/** A registry over a Kubernetes API server. */
export class KubernetesRegistry extends RegistryBase {
  /** Always `kubernetes`. */
  readonly kind = 'kubernetes' as const;
  /** The kubeconfig file. */
  readonly location: string;
  readonly #domain: string;
  readonly #maxBackoff: number;
  readonly #times: KubeTimes;
  readonly #pageSize: number;
  readonly #maxPageBytes: number;
  readonly #parseOptions: Partial<RegistryParseOptions>;
  #parser: BodyParser | undefined;
  #abort = new AbortController();
  #kinds:
    | [ListWatch<V1Service, KubeService>, ListWatch<V1EndpointSlice, KubeSlice>, ListWatch<V1Pod, KubePod>]
    | undefined;
  /** Each service's output by the objects it was made of. */
  readonly #built = new Map<string, Built>();

  /** @param kubeconfig the path of a kubeconfig file (its current context is used) */
  constructor(kubeconfig: string, options: KubernetesRegistryOptions = {}) {
    super(options.limits);
    this.location = kubeconfig;
    this.#domain = options.domain ?? 'cluster.local';
    this.#maxBackoff = options.maxBackoffMs ?? 5_000;
    this.#times = {
      watchTimeoutSeconds: options.watchTimeoutSeconds ?? 300,
      watchIdleMs: options.watchIdleMs ?? 120_000,
      listTimeoutMs: options.listTimeoutMs ?? 60_000,
      minWatchMs: options.minWatchMs ?? 1000,
    };
    this.#pageSize = Math.max(1, Math.floor(options.listPageSize ?? 500));
    this.#maxPageBytes = options.maxPageBytes ?? 4 * 1024 * 1024;
    this.#parseOptions = options.parse ?? {};
  }

  /** What its parser has done (answers parsed on the event loop and by the worker), or undefined before start. */
  parseCounts(): ParseCounts | undefined {
    return this.#parser?.counts();
  }

  /** Loads the kubeconfig and starts the three list-watches. */
  start(): void {
    this.#abort = new AbortController();
    let config: KubeConfig;
    try {
      config = loadKubeconfig(this.location);
    } catch (error) {
      this.reportProblem(`kubeconfig ${this.location}: ${messageOf(error)}`);
      return;
    }
    const labels = this.limits.maxInstanceLabelBytes;
    const responseBytes = this.limits.maxRegistryResponseBytes;
    const bounds: PageBounds = {
      pageSize: this.#pageSize,
      maxPageBytes: Math.min(this.#maxPageBytes, responseBytes),
      maxPageBytesName: this.#maxPageBytes <= responseBytes ? 'maxPageBytes' : 'maxRegistryResponseBytes',
      maxObjects: this.limits.maxRegistryObjects,
      timeoutMs: this.#times.listTimeoutMs,
    };
    const times = this.#times;
    const parser = new BodyParser(this.#parseOptions);
    this.#parser = parser;
    const keep = (objects: KeepSpec['objects']): KeepSpec => ({ objects, maxLabelBytes: labels });
    const kinds: [
      ListWatch<V1Service, KubeService>,
      ListWatch<V1EndpointSlice, KubeSlice>,
      ListWatch<V1Pod, KubePod>,
    ] = [
      new ListWatch(
        'services',
        '/api/v1/services',
        config,
        bounds,
        keep('services'),
        compactService,
        times,
        parser,
      ),
      new ListWatch(
        'endpointslices',
        '/apis/discovery.k8s.io/v1/endpointslices',
        config,
        bounds,
        keep('endpointslices'),
        compactSlice,
        times,
        parser,
      ),
      new ListWatch(
        'pods',
        '/api/v1/pods',
        config,
        bounds,
        keep('pods'),
        (pod: V1Pod) => compactPod(pod, labels),
        times,
        parser,
      ),
    ];
    this.#built.clear();
    this.#kinds = kinds;
    for (const kind of kinds) {
      void kind.run(
        this.#abort.signal,
        () => this.scheduleUpdate(() => this.#publish()),
        (message, kind) => this.reportProblem(`kubernetes ${message}`, kind),
        this.#maxBackoff,
      );
    }
  }

  /** Stops the watches. */
  async stop(): Promise<void> {
    this.#abort.abort();
    this.cancelUpdate();
    await this.#parser?.close();
  }

  #publish(): void {
    const kinds = this.#kinds;
    if (kinds === undefined || !kinds.every((k) => k.synced)) return;
    const [services, slices, pods] = kinds;
    const made = kubernetesServices(
      services.items,
      slices.items.values(),
      pods.items,
      this.#domain,
      this.#built,
      this.limits.maxInstancesPerService,
    );
    this.replaceServices(
      made.services,
      made.problems,
      // a registry that lost its server stays stale until every kind's watch is up again
      { stale: this.status().stale && !kinds.every((k) => k.connected), leftOut: made.leftOut },
    );
  }
}
