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
import { Backoff, delay, messageOf } from './backoff.js';
import { BodyParser, type ParseCounts, type RegistryParseOptions } from './body-parser.js';
import { nameProblem } from './check-service.js';
import { consulHostname } from './consul-service.js';
import { ByteBudget, RegistryLimitError, readBody, readErrorText } from './http-body.js';
import { quoted } from './kept-text.js';
import { parseConsulLocation } from './locations.js';
import type { OutputOf, ParseJob } from './parse-jobs.js';
import { RegistryBase } from './registry-base.js';
import type { RegistryLimits } from './registry-limits.js';
import type { RegistryProblem, RegistryService } from './types.js';

export { consulHostname, consulService } from './consul-service.js';

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
  /** How answers are parsed off the event loop (`BodyParser`); unset ones take `defaultParseOptions`. */
  readonly parse?: Partial<RegistryParseOptions>;
}

interface Blocking<T> {
  readonly out: T;
  readonly index: number;
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
  readonly #parseOptions: Partial<RegistryParseOptions>;
  #parser: BodyParser;
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
  /** Each service's instances left out where its answer was parsed (consul-service.ts): the reasons and count. */
  readonly #refused = new Map<string, { readonly reasons: readonly string[]; readonly leftOut: number }>();

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
    this.#parseOptions = options.parse ?? {};
    this.#parser = new BodyParser(this.#parseOptions);
  }

  /** What its parser has done (answers parsed on the event loop and by the worker). */
  parseCounts(): ParseCounts {
    return this.#parser.counts();
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
    this.#parser = new BodyParser(this.#parseOptions);
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
    await this.#parser.close();
  }

  /** A blocking query's answer, parsed and reduced by `job` (off the event loop when it is large). */
  async #get<J extends ParseJob>(
    path: string,
    index: number,
    signal: AbortSignal,
    job: J,
  ): Promise<Blocking<OutputOf<J>>> {
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
    const parser = this.#parser;
    const out = await readBody(
      response,
      this.limits.maxRegistryResponseBytes,
      `GET ${path}`,
      this.#budget,
      (bytes) => parser.parse(bytes, job, `GET ${path}`),
    );
    const header = Number(response.headers.get('x-consul-index') ?? '0');
    return { out, index: Number.isFinite(header) && header > 0 ? header : 0 };
  }

  async #catalogLoop(): Promise<void> {
    const signal = this.#abort.signal;
    const backoff = new Backoff({ maxMs: this.#maxBackoff });
    let index = 0;
    while (!signal.aborted) {
      try {
        const max = this.limits.maxRegistryServices;
        const { out, index: next } = await this.#get('/v1/catalog/services', index, signal, {
          kind: 'consul-catalog',
          maxNames: max,
        });
        // an index that goes backwards (a restarted server) starts over, as Consul's docs say; its answer is not
        // used: a restarting server answers from its state before the restore (index 1, no services)
        if (next < index) {
          index = 0;
          throw new Error('the index went backwards (a restarted server); asking again');
        }
        index = next;
        backoff.reset();
        // sorted, without `consul`; past the limit only their count comes back
        const names = out.items;
        if (out.meta.count > max) {
          // over the limit: nothing is watched for the new list; the previous content stays
          this.reportProblem(
            `consul ${this.#base}: ${out.meta.count} services is over the limit of ${max} (maxRegistryServices)`,
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
          else bad.push({ item: quoted(name), message: `service left out: ${problem}`, at });
        }
        this.#badNames = bad;
        for (const [name, watcher] of this.#watchers) {
          if (!kept.has(name)) {
            watcher.abort();
            this.#watchers.delete(name);
            this.#entries.delete(name);
            this.#refused.delete(name);
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
          const { out, index: next } = await this.#get(
            `/v1/health/service/${encodeURIComponent(name)}`,
            index,
            signal,
            {
              kind: 'consul-health',
              name,
              maxInstances: this.limits.maxInstancesPerService,
              maxLabelBytes: this.limits.maxInstanceLabelBytes,
            },
          );
          if (signal.aborted) return;
          if (next < index) {
            index = 0;
            throw new Error('the index went backwards (a restarted server); asking again');
          }
          index = next;
          backoff.reset();
          // built where it was parsed: the service's ports and instances (at most one past maxInstancesPerService)
          this.#entries.set(
            name,
            out.meta.entries === 0
              ? undefined
              : {
                  hostname: consulHostname(name),
                  name,
                  namespace: 'consul',
                  ports: out.meta.ports,
                  instances: out.items,
                },
          );
          const { refused, leftOut } = out.meta;
          if (leftOut === 0) this.#refused.delete(name);
          else this.#refused.set(name, { reasons: refused, leftOut });
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
      missing.push({ item: quoted(name), message: `service left out: ${why}`, at });
    }
    if (wakeAt !== Number.POSITIVE_INFINITY) this.#wakeAt(wakeAt);
    const services: RegistryService[] = [];
    for (const service of this.#entries.values()) if (service !== undefined) services.push(service);
    const refused: RegistryProblem[] = [];
    let leftOut = this.#badNames.length + missing.length;
    for (const [name, { reasons, leftOut: count }] of this.#refused) {
      leftOut += count;
      for (const message of reasons) refused.push({ item: quoted(name), message, at });
    }
    this.replaceServices(services, [...this.#badNames, ...missing, ...refused], {
      stale: this.#failures.size > 0,
      leftOut,
    });
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
