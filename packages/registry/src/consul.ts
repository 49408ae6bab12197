/**
 * The Consul adapter: the catalog's service list and one `/v1/health/service/NAME` blocking query per service
 * (plain fetch), each resumed from the last `X-Consul-Index`. Mapping: hostname `<service>.service.consul`;
 * service meta and `key=value` tags → labels; meta `protocol` → the port's protocol; meta `service_port` → the port
 * clients use (else the instance's port); node datacenter → region; every check passing → healthy. An instance
 * serves only its own port (`onlyNamedPorts`): instances on distinct ports give a cluster per port, each listing
 * its own instances. Response bodies are bounded (`maxRegistryResponseBytes`), and only the converted services are
 * kept, not the raw entries. An answer from an agent that knows no leader (`X-Consul-KnownLeader: false`) is not
 * used: a restarting server answers a waiting blocking query from its still empty state (index 1, no instances),
 * which would remove every instance for a moment; the registry stays stale and asks again. So too an answer whose
 * index went backwards (Consul's docs: start over from index 0): it is not applied, the next one is. A query from
 * index 0 (at start, after an error, after the index went backwards) is a consistent read: a restarted server knows
 * itself as leader before it has replayed its raft log, and answers a default read from its still empty state with
 * `X-Consul-KnownLeader: true`; a consistent read is refused until that state is restored.
 * Changes are applied through `scheduleUpdate`: many blocking queries answering at once are one update.
 * One service never blocks the others (rule L2): the first sync waits for a service's first answer at most
 * `firstAnswerMs`, and only while its query has not failed; then, and after the first sync always, the others are
 * published with each one's last known answer, and a service with no answer yet is left out and reported in
 * `itemErrors` with the reason (a service whose health answer hung mid-body froze every update of the registry).
 * Bodies being read at once share one budget, `maxRegistryBytesInFlight` (one 64 MiB bound per service is not a
 * bound on 10,000 services).
 */
import type { Protocol } from '@xds/generator';
import { Backoff, delay, messageOf } from './backoff.js';
import { nameProblem } from './check-service.js';
import { ByteBudget, RegistryLimitError, readErrorText, readJsonBody } from './http-body.js';
import { parseConsulLocation } from './locations.js';
import { defaultPortName, portFromText, protocolFromValue } from './protocol.js';
import { RegistryBase } from './registry-base.js';
import type { RegistryLimits } from './registry-limits.js';
import type { RegistryInstance, RegistryPort, RegistryProblem, RegistryService } from './types.js';

/** Options of {@link ConsulRegistry}. */
export interface ConsulRegistryOptions {
  /** How long a blocking query waits on the server, in seconds; default 30. */
  readonly waitSeconds?: number;
  /** The most services it holds (`limits.maxRegistryServices` when both are given, this wins). */
  readonly maxServices?: number;
  /** Bounds on its content and responses; unset ones take `defaultRegistryLimits`. */
  readonly limits?: Partial<RegistryLimits>;
  /** The largest delay between retries, in milliseconds; default 5,000. */
  readonly maxBackoffMs?: number;
  /**
   * How long the first sync waits for a service's first answer, in milliseconds, before the others are published
   * without it (a failed query does not wait); default 10,000.
   */
  readonly firstAnswerMs?: number;
}

/** One entry of `/v1/health/service/NAME`, the fields used. */
interface HealthEntry {
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

interface Blocking<T> {
  readonly body: T;
  readonly index: number;
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

/** A Consul service from its health entries. */
export function consulService(name: string, entries: readonly HealthEntry[]): RegistryService {
  const ports = new Map<number, RegistryPort>();
  const instances: RegistryInstance[] = [];
  const sorted = [...entries].sort((a, b) => (a.Service?.ID ?? '').localeCompare(b.Service?.ID ?? ''));
  for (const entry of sorted) {
    const s = entry.Service;
    const address = s?.Address || entry.Node?.Address;
    if (s === undefined || address === undefined || s.Port === undefined) continue;
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
    hostname: consulHostname(name),
    name,
    namespace: 'consul',
    ports: [...ports.values()],
    instances,
  };
}

/** A registry over a Consul agent's catalog and health API. */
export class ConsulRegistry extends RegistryBase {
  /** Always `consul`. */
  readonly kind = 'consul' as const;
  /** `http://HOST:PORT`. */
  readonly location: string;
  readonly #base: string;
  readonly #wait: number;
  readonly #maxBackoff: number;
  readonly #firstAnswerMs: number;
  readonly #budget: ByteBudget;
  #abort = new AbortController();
  #catalogLoaded = false;
  /** The services by name, converted on arrival (an empty one is undefined); a name with no answer yet is pending. */
  readonly #entries = new Map<string, RegistryService | undefined>();
  readonly #watchers = new Map<string, AbortController>();
  /** When each watched service's watch began (for `firstAnswerMs`). */
  readonly #since = new Map<string, number>();
  /** The latest error of each service whose latest query failed. */
  readonly #failures = new Map<string, string>();
  #published = false;
  #deadline: NodeJS.Timeout | undefined;
  /** Services whose name cannot be served (Consul itself answers 400 for some): not watched, reported. */
  #badNames: RegistryProblem[] = [];

  /** @param location `http://HOST:PORT` of a Consul agent */
  constructor(location: string, options: ConsulRegistryOptions = {}) {
    super({
      ...options.limits,
      ...(options.maxServices === undefined ? {} : { maxRegistryServices: options.maxServices }),
    });
    const url = parseConsulLocation(location);
    this.location = location;
    this.#base = url.origin;
    this.#wait = options.waitSeconds ?? 30;
    this.#maxBackoff = options.maxBackoffMs ?? 5_000;
    this.#firstAnswerMs = options.firstAnswerMs ?? 10_000;
    this.#budget = new ByteBudget(this.limits.maxRegistryBytesInFlight);
  }

  /**
   * The bytes of response bodies held now, the part of them held by large reads (at most three quarters of the
   * limit: the rest is kept for small reads), and the most held at once so far (bounded by `maxRegistryBytesInFlight`).
   */
  bodyBytes(): { readonly held: number; readonly large: number; readonly peak: number } {
    return { held: this.#budget.held(), large: this.#budget.largeHeld(), peak: this.#budget.peak() };
  }

  /** Starts the catalog query loop. */
  start(): void {
    this.#abort = new AbortController();
    void this.#catalogLoop();
  }

  /** Stops every query. */
  async stop(): Promise<void> {
    this.#abort.abort();
    this.cancelUpdate();
    clearTimeout(this.#deadline);
    this.#deadline = undefined;
    for (const watcher of this.#watchers.values()) watcher.abort();
    this.#watchers.clear();
  }

  async #get<T>(path: string, index: number, signal: AbortSignal): Promise<Blocking<T>> {
    const separator = path.includes('?') ? '&' : '?';
    // from index 0 nothing tells a restored state from one being restored: only a consistent read does (Consul
    // refuses it until the leader has applied its log); later blocking queries read the leader's state as usual
    const consistent = index === 0 ? '&consistent' : '';
    const url = `${this.#base}${path}${separator}index=${index}&wait=${this.#wait}s${consistent}`;
    const timeout = AbortSignal.timeout((this.#wait + 15) * 1000);
    const response = await fetch(url, { signal: AbortSignal.any([signal, timeout]) });
    if (!response.ok) {
      const text = (await readErrorText(response)).slice(0, 200);
      throw new Error(`GET ${path}: HTTP ${response.status} ${text}`);
    }
    if (response.headers.get('x-consul-knownleader') === 'false') {
      await response.body?.cancel();
      throw new Error(`GET ${path}: the agent knows no leader (X-Consul-KnownLeader: false); asking again`);
    }
    const body = (await readJsonBody(
      response,
      this.limits.maxRegistryResponseBytes,
      `GET ${path}`,
      this.#budget,
    )) as T;
    const header = Number(response.headers.get('x-consul-index') ?? '0');
    return { body, index: Number.isFinite(header) && header > 0 ? header : 0 };
  }

  async #catalogLoop(): Promise<void> {
    const signal = this.#abort.signal;
    const backoff = new Backoff({ maxMs: this.#maxBackoff });
    let index = 0;
    while (!signal.aborted) {
      try {
        const { body, index: next } = await this.#get<Record<string, unknown>>(
          '/v1/catalog/services',
          index,
          signal,
        );
        // an index that goes backwards (a restarted server) starts over, as Consul's docs say; its answer is not
        // used: a restarting server answers from its state before the restore (index 1, no services)
        if (next < index) {
          index = 0;
          throw new Error('the index went backwards (a restarted server); asking again');
        }
        index = next;
        backoff.reset();
        const names = Object.keys(body)
          .filter((n) => n !== 'consul')
          .sort();
        const max = this.limits.maxRegistryServices;
        if (names.length > max) {
          // over the limit: nothing is watched for the new list; the previous content stays
          this.reportProblem(
            `consul ${this.#base}: ${names.length} services is over the limit of ${max} (maxRegistryServices)`,
            'limit',
          );
          continue;
        }
        // a name that cannot be served is not watched (Consul answers 400 to a health query for `a\nb`, which
        // would keep the whole registry from syncing): it is reported and the others are served
        const at = new Date();
        const bad: RegistryProblem[] = [];
        const kept = new Set<string>();
        for (const name of names) {
          const problem = nameProblem('service name', name);
          if (problem === undefined) kept.add(name);
          else bad.push({ item: JSON.stringify(name), message: `service left out: ${problem}`, at });
        }
        this.#badNames = bad;
        for (const [name, watcher] of this.#watchers) {
          if (!kept.has(name)) {
            watcher.abort();
            this.#watchers.delete(name);
            this.#entries.delete(name);
            this.#since.delete(name);
            this.#failures.delete(name);
          }
        }
        for (const name of kept) if (!this.#watchers.has(name)) this.#watch(name);
        this.#catalogLoaded = true;
        this.scheduleUpdate(() => this.#publish());
      } catch (error) {
        if (signal.aborted) return;
        this.reportProblem(`consul ${this.#base}: ${messageOf(error)}`, kindOf(error));
        index = 0;
        await delay(backoff.next(), signal);
      }
    }
  }

  #watch(name: string): void {
    const controller = new AbortController();
    this.#watchers.set(name, controller);
    this.#since.set(name, Date.now());
    const signal = AbortSignal.any([this.#abort.signal, controller.signal]);
    void (async () => {
      const backoff = new Backoff({ maxMs: this.#maxBackoff });
      let index = 0;
      while (!signal.aborted) {
        try {
          const { body, index: next } = await this.#get<HealthEntry[]>(
            `/v1/health/service/${encodeURIComponent(name)}`,
            index,
            signal,
          );
          if (signal.aborted) return;
          if (next < index) {
            index = 0;
            throw new Error('the index went backwards (a restarted server); asking again');
          }
          index = next;
          backoff.reset();
          const entries = Array.isArray(body) ? body : [];
          this.#entries.set(name, entries.length === 0 ? undefined : consulService(name, entries));
          this.#failures.delete(name);
          this.scheduleUpdate(() => this.#publish());
        } catch (error) {
          if (signal.aborted) return;
          const message = `consul ${this.#base} service ${name}: ${messageOf(error)}`;
          this.#failures.set(name, messageOf(error));
          this.reportProblem(message, kindOf(error));
          // the others are published without it (its last known answer, if any, stays)
          this.scheduleUpdate(() => this.#publish());
          index = 0;
          await delay(backoff.next(), signal);
        }
      }
    })();
  }

  /**
   * Publishes every service's last known answer. Before the first sync it waits for a service with no answer yet
   * while its query has not failed and it is younger than `firstAnswerMs`; a service with no answer is left out and
   * reported (once it failed or is past that time). A failing query keeps the registry stale.
   */
  #publish(): void {
    if (!this.#catalogLoaded) return;
    const now = Date.now();
    const at = new Date(now);
    const missing: RegistryProblem[] = [];
    let wakeAt = Number.POSITIVE_INFINITY;
    for (const name of this.#watchers.keys()) {
      if (this.#entries.has(name)) continue;
      const failure = this.#failures.get(name);
      const deadline = (this.#since.get(name) ?? now) + this.#firstAnswerMs;
      if (failure === undefined && now < deadline) {
        if (!this.#published) {
          this.#wakeAt(deadline);
          return;
        }
        wakeAt = Math.min(wakeAt, deadline);
        continue;
      }
      const why = failure ?? `no answer to its health query in ${this.#firstAnswerMs} ms (firstAnswerMs)`;
      missing.push({ item: JSON.stringify(name), message: `service left out: ${why}`, at });
    }
    if (wakeAt !== Number.POSITIVE_INFINITY) this.#wakeAt(wakeAt);
    const services: RegistryService[] = [];
    for (const service of this.#entries.values()) if (service !== undefined) services.push(service);
    this.replaceServices(services, [...this.#badNames, ...missing], { stale: this.#failures.size > 0 });
    this.#published = true;
  }

  /** Publishes again at `time` (a service's first answer is due), unless a wake-up is set already. */
  #wakeAt(time: number): void {
    if (this.#deadline !== undefined) return;
    this.#deadline = setTimeout(
      () => {
        this.#deadline = undefined;
        this.scheduleUpdate(() => this.#publish());
      },
      Math.max(0, time - Date.now()),
    );
  }
}

function kindOf(error: unknown): 'connection' | 'limit' {
  return error instanceof RegistryLimitError ? 'limit' : 'connection';
}
