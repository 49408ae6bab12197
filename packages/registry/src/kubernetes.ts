/**
 * The Kubernetes adapter (`@kubernetes/client-node` 1.4.x): Services, EndpointSlices (`discovery.k8s.io/v1`) and
 * Pods, each listed and then watched from the list's `resourceVersion` (bookmarks keep it current); a watch that
 * ends is resumed from the last version seen, and `410 Gone` (the version was compacted) lists again.
 * Mapping: hostname `<svc>.<ns>.svc.<domain>`; port protocol from `appProtocol`, else the port name's prefix;
 * endpoint `ready` → healthy (unset counts as ready, as Kubernetes says); `zone` → zone; the Pod's labels → labels.
 * Lists and watch events are read as JSON, bounded by `maxRegistryResponseBytes` (kube-http.ts): a list past it, or
 * one watch event line past it, is a registry error naming the limit, and the previous content stays.
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
import { defaultPortName, portProtocol } from './protocol.js';
import { RegistryBase } from './registry-base.js';
import type { RegistryLimits } from './registry-limits.js';
import type { RegistryInstance, RegistryPort, RegistryService } from './types.js';

/** Options of {@link KubernetesRegistry}. */
export interface KubernetesRegistryOptions {
  /** The cluster domain; default `cluster.local`. */
  readonly domain?: string;
  /** The largest delay between retries, in milliseconds; default 5,000. */
  readonly maxBackoffMs?: number;
  /** Bounds on its content; unset ones take `defaultRegistryLimits`. */
  readonly limits?: Partial<RegistryLimits>;
}

interface Listed<T> {
  readonly items: readonly T[];
  readonly metadata?: { readonly resourceVersion?: string };
}

/** One resource kind listed and watched. */
class ListWatch<T extends { metadata?: V1ObjectMeta }> {
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
  ) {}

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
        if (relist) {
          const listed = (await listBounded(
            this.config,
            this.path,
            this.maxBytes,
            `GET ${this.path}`,
            signal,
          )) as Listed<T>;
          if (!Array.isArray(listed?.items)) throw new Error(`GET ${this.path}: the answer is not a list`);
          this.items.clear();
          for (const item of listed.items) this.items.set(keyOf(item.metadata), item);
          this.#version = listed.metadata?.resourceVersion ?? '';
          this.synced = true;
          relist = false;
          changed();
        }
        const ended = await watchBounded(
          this.config,
          this.path,
          { resourceVersion: this.#version, allowWatchBookmarks: 'true', timeoutSeconds: '300' },
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
              const object = value as (T & { code?: number; message?: string }) | undefined;
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
              else this.items.set(key, object);
              changed();
              return false;
            },
          },
        );
        if (signal.aborted) return;
        if (ended.gone || gone) relist = true;
        else if ((watchError ?? ended.error) !== undefined) {
          this.connected = false;
          problem(
            `${this.what} watch: ${watchError ?? ended.error}`,
            ended.overLimit === true ? 'limit' : 'connection',
          );
          // the watch cannot move past an event it could not read: list again (the list is bounded too)
          if (ended.overLimit === true) relist = true;
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

/** The registry services of Kubernetes objects. */
export function kubernetesServices(
  services: Iterable<V1Service>,
  slices: Iterable<V1EndpointSlice>,
  pods: ReadonlyMap<string, V1Pod>,
  domain: string,
): RegistryService[] {
  const slicesByService = new Map<string, V1EndpointSlice[]>();
  for (const slice of slices) {
    const owner = slice.metadata?.labels?.['kubernetes.io/service-name'];
    if (owner === undefined || (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6')) continue;
    const key = `${slice.metadata?.namespace ?? ''}/${owner}`;
    const list = slicesByService.get(key) ?? [];
    list.push(slice);
    slicesByService.set(key, list);
  }
  const out: RegistryService[] = [];
  for (const service of services) {
    const name = service.metadata?.name;
    const namespace = service.metadata?.namespace;
    if (name === undefined || namespace === undefined) continue;
    const ports: RegistryPort[] = [];
    const portNameOf = new Map<string, string>();
    for (const p of service.spec?.ports ?? []) {
      const protocol = p.protocol === 'UDP' ? 'UDP' : portProtocol(p.appProtocol, p.name);
      const portName = p.name || defaultPortName(protocol, p.port);
      ports.push({ name: portName, port: p.port, protocol });
      portNameOf.set(p.name ?? '', portName);
    }
    const instances: RegistryInstance[] = [];
    for (const slice of slicesByService.get(`${namespace}/${name}`) ?? []) {
      const targetPorts: Record<string, number> = {};
      for (const sp of slice.ports ?? []) {
        const portName = portNameOf.get(sp.name ?? '');
        if (portName !== undefined && sp.port !== undefined) targetPorts[portName] = sp.port;
      }
      for (const endpoint of slice.endpoints) {
        const ref = endpoint.targetRef;
        const pod =
          ref?.kind === 'Pod' ? pods.get(`${ref.namespace ?? namespace}/${ref.name ?? ''}`) : undefined;
        for (const address of endpoint.addresses) {
          instances.push({
            address,
            ports: targetPorts,
            labels: { ...(pod?.metadata?.labels ?? {}) },
            locality: { region: '', zone: endpoint.zone ?? '', subZone: '' },
            weight: 1,
            healthy: endpoint.conditions?.ready !== false,
          });
        }
      }
    }
    out.push({ hostname: `${name}.${namespace}.svc.${domain}`, name, namespace, ports, instances });
  }
  return out;
}

/** A registry over a Kubernetes API server. */
export class KubernetesRegistry extends RegistryBase {
  /** Always `kubernetes`. */
  readonly kind = 'kubernetes' as const;
  /** The kubeconfig file. */
  readonly location: string;
  readonly #domain: string;
  readonly #maxBackoff: number;
  #abort = new AbortController();
  #kinds: [ListWatch<V1Service>, ListWatch<V1EndpointSlice>, ListWatch<V1Pod>] | undefined;

  /** @param kubeconfig the path of a kubeconfig file (its current context is used) */
  constructor(kubeconfig: string, options: KubernetesRegistryOptions = {}) {
    super(options.limits);
    this.location = kubeconfig;
    this.#domain = options.domain ?? 'cluster.local';
    this.#maxBackoff = options.maxBackoffMs ?? 5_000;
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
    const kinds: [ListWatch<V1Service>, ListWatch<V1EndpointSlice>, ListWatch<V1Pod>] = [
      new ListWatch('services', '/api/v1/services', config, max),
      new ListWatch('endpointslices', '/apis/discovery.k8s.io/v1/endpointslices', config, max),
      new ListWatch('pods', '/api/v1/pods', config, max),
    ];
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
    this.replaceServices(
      kubernetesServices(services.items.values(), slices.items.values(), pods.items, this.#domain),
      [],
      // a registry that lost its server stays stale until every kind's watch is up again
      { stale: this.status().stale && !kinds.every((k) => k.connected) },
    );
  }
}
