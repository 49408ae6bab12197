/**
 * The Kubernetes adapter (`@kubernetes/client-node` 1.4.x): Services, EndpointSlices (`discovery.k8s.io/v1`) and
 * Pods, each listed and then watched from the list's `resourceVersion` (bookmarks keep it current); a watch that
 * ends is resumed from the last version seen, and `410 Gone` (the version was compacted) lists again.
 * Mapping: hostname `<svc>.<ns>.svc.<domain>`; port protocol from `appProtocol`, else the port name's prefix;
 * endpoint `ready` → healthy (unset counts as ready, as Kubernetes says); `zone` → zone; the Pod's labels → labels.
 * Lists and watch events are read as JSON, bounded by `maxRegistryResponseBytes` (kube-http.ts): a list past it, or
 * one watch event line past it, is a registry error naming the limit, and the previous content stays.
 * Only what the mapping reads is kept of each object (names, ports, addresses, readiness, zone, the Pod's labels),
 * not specs, statuses and managedFields (rule L2: a cluster's Pods held whole took a gigabyte). Each kind holds at
 * most `maxRegistryObjects` objects: a list or a watch past it is a registry error naming the limit, the previous
 * services stay, and it lists again after a backoff. A Pod's labels past `maxInstanceLabelBytes` are not kept: its
 * endpoints are left out, naming the limit. A service's output is made again only when its Service, its slices or
 * their Pods changed (compared by object), so an update costs what changed, not what is held.
 */
import {
  KubeConfig,
  type V1EndpointSlice,
  type V1ObjectMeta,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node';
import { Backoff, delay, messageOf } from './backoff.js';
import { RegistryLimitError } from './http-body.js';
import { listBounded, watchBounded } from './kube-http.js';
import {
  type Built,
  compactPod,
  compactService,
  compactSlice,
  type KubePod,
  type KubeService,
  type KubeSlice,
  kubernetesServices,
} from './kube-objects.js';
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
  /** The most time a list may take, headers and body, in milliseconds; then it lists again after a backoff. Default 60,000. */
  readonly listTimeoutMs?: number;
}

/** The time bounds of a kind's requests (see {@link KubernetesRegistryOptions}). */
interface KubeTimes {
  readonly watchTimeoutSeconds: number;
  readonly watchIdleMs: number;
  readonly listTimeoutMs: number;
}

interface Listed<T> {
  readonly items: readonly T[];
  readonly metadata?: { readonly resourceVersion?: string };
}

/** One resource kind listed and watched; `T` is what is kept of each object. */
class ListWatch<R extends { metadata?: V1ObjectMeta }, T> {
  readonly items = new Map<string, T>();
  synced = false;
  /** A watch is established (not failed since); the registry is stale while any kind's is not. */
  connected = false;
  #version = '';

  constructor(
    readonly what: string,
    readonly path: string,
    readonly config: KubeConfig,
    /** `maxRegistryResponseBytes`: the bound on a list body and on each watch event line. */
    readonly maxBytes: number,
    /** `maxRegistryObjects`: the most objects held. */
    readonly maxObjects: number,
    /** What is kept of an object. */
    readonly compact: (object: R) => T,
    /** The time bounds of its lists and watches. */
    readonly times: KubeTimes,
  ) {}

  #tooMany(count: string): string {
    return `${this.what}: ${count} objects, over the limit of ${this.maxObjects} (maxRegistryObjects)`;
  }

  /** Lists, then watches until `signal` aborts; calls `changed` after each applied change. */
  async run(
    signal: AbortSignal,
    changed: () => void,
    problem: (message: string, kind: 'connection' | 'limit') => void,
    maxBackoffMs: number,
  ): Promise<void> {
    const backoff = new Backoff({ maxMs: maxBackoffMs });
    let relist = true;
    while (!signal.aborted) {
      try {
        let gone = false;
        let watchError: string | undefined;
        let overLimit = false;
        if (relist) {
          const listed = (await listBounded(
            this.config,
            this.path,
            this.maxBytes,
            `GET ${this.path}`,
            signal,
            this.times.listTimeoutMs,
          )) as Listed<R>;
          if (!Array.isArray(listed?.items)) throw new Error(`GET ${this.path}: the answer is not a list`);
          if (listed.items.length > this.maxObjects)
            throw new RegistryLimitError(this.#tooMany(String(listed.items.length)));
          this.items.clear();
          for (const item of listed.items) this.items.set(keyOf(item.metadata), this.compact(item));
          this.#version = listed.metadata?.resourceVersion ?? '';
          this.synced = true;
          relist = false;
          changed();
        }
        const ended = await watchBounded(
          this.config,
          this.path,
          {
            resourceVersion: this.#version,
            allowWatchBookmarks: 'true',
            timeoutSeconds: String(this.times.watchTimeoutSeconds),
          },
          this.maxBytes,
          `GET ${this.path}?watch`,
          signal,
          {
            opened: () => {
              if (this.connected) return;
              this.connected = true;
              changed();
            },
            event: (type, value) => {
              const object = value as (R & { code?: number; message?: string }) | undefined;
              if (typeof object !== 'object' || object === null) return false;
              if (type === 'ERROR') {
                // the apiserver reports a compacted version (410) inside a 200 watch, which then ends
                gone = object.code === 410;
                watchError = object.message ?? `code ${object.code}`;
                return true;
              }
              const version = object.metadata?.resourceVersion;
              if (version !== undefined) this.#version = version;
              if (type === 'BOOKMARK') return false;
              const key = keyOf(object.metadata);
              if (type === 'DELETED') this.items.delete(key);
              else if (!this.items.has(key) && this.items.size >= this.maxObjects) {
                // one more would pass the limit: the watch ends, and the registry lists again after a backoff
                overLimit = true;
                watchError = this.#tooMany(`more than ${this.maxObjects}`);
                return true;
              } else this.items.set(key, this.compact(object));
              changed();
              return false;
            },
          },
          { deadlineMs: this.times.watchTimeoutSeconds * 1000 + 30_000, idleMs: this.times.watchIdleMs },
        );
        if (signal.aborted) return;
        if (ended.gone || gone) relist = true;
        else if ((watchError ?? ended.error) !== undefined) {
          this.connected = false;
          const limited = ended.overLimit === true || overLimit;
          problem(`${this.what} watch: ${watchError ?? ended.error}`, limited ? 'limit' : 'connection');
          // the watch cannot move past an event it could not read or hold: list again (the list is bounded too)
          if (limited) relist = true;
          await delay(backoff.next(), signal);
        } else {
          backoff.reset();
          // a watch the server ended normally resumes from the last version; content did not change
          changed();
        }
      } catch (error) {
        if (signal.aborted) return;
        this.connected = false;
        problem(
          `${this.what}: ${messageOf(error)}`,
          error instanceof RegistryLimitError ? 'limit' : 'connection',
        );
        relist = true;
        await delay(backoff.next(), signal);
      }
    }
  }
}

function keyOf(meta: V1ObjectMeta | undefined): string {
  return `${meta?.namespace ?? ''}/${meta?.name ?? ''}`;
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
    };
  }

  /** Loads the kubeconfig and starts the three list-watches. */
  start(): void {
    this.#abort = new AbortController();
    const config = new KubeConfig();
    try {
      config.loadFromFile(this.location);
    } catch (error) {
      this.reportProblem(`kubeconfig ${this.location}: ${messageOf(error)}`);
      return;
    }
    const max = this.limits.maxRegistryResponseBytes;
    const objects = this.limits.maxRegistryObjects;
    const labels = this.limits.maxInstanceLabelBytes;
    const times = this.#times;
    const kinds: [
      ListWatch<V1Service, KubeService>,
      ListWatch<V1EndpointSlice, KubeSlice>,
      ListWatch<V1Pod, KubePod>,
    ] = [
      new ListWatch('services', '/api/v1/services', config, max, objects, compactService, times),
      new ListWatch(
        'endpointslices',
        '/apis/discovery.k8s.io/v1/endpointslices',
        config,
        max,
        objects,
        compactSlice,
        times,
      ),
      new ListWatch(
        'pods',
        '/api/v1/pods',
        config,
        max,
        objects,
        (pod: V1Pod) => compactPod(pod, labels),
        times,
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
      this.limits.maxInstanceLabelBytes,
      this.#built,
      this.limits.maxInstancesPerService,
    );
    this.replaceServices(
      made.services,
      made.problems,
      // a registry that lost its server stays stale until every kind's watch is up again
      { stale: this.status().stale && !kinds.every((k) => k.connected) },
    );
  }
}
