/**
 * The Eureka adapter: one full `GET /apps`, then `GET /apps/delta` every interval (default 30 s, Eureka clients'
 * default; `?interval=1s` in the location), applying ADDED/MODIFIED/DELETED and checking the result against the
 * server's `apps__hashcode` — a mismatch (a missed delta) fetches everything again. Mapping: hostname = the
 * instance's `vipAddress` (each of a comma-separated list); metadata → labels; metadata `protocol` → the port's
 * protocol, `service_port` → the port clients use (else the instance's port), `zone` → zone; status UP → healthy.
 *
 * Never backwards: a Eureka server can answer `/apps` with an older view than the deltas already applied (its
 * response caches, google/guava#1881; a peer behind the same address that replication has not reached yet). The
 * adapter therefore (1) versions every instance by the server's `lastUpdatedTimestamp` and ignores an entry older
 * than the one it holds; (2) remembers deleted instances for {@link eurekaTombstoneMs} and drops them from a full
 * answer that predates the deletion; (3) applies a delta right after every full fetch, before publishing, so the
 * changes the full answer missed (within the server's 3-minute delta window) are in the first push.
 *
 * Bounded: response bodies by `maxRegistryResponseBytes`; an instance serves only its own port (`onlyNamedPorts`), so
 * instances on distinct ports give a cluster per port with its own instances, not ports × instances; the VIPs of an
 * instance and the expansion over all of them are bounded before anything is built (`eureka-services.ts`), and a
 * poll that changes nothing publishes nothing (rule L2).
 */
import { Backoff, delay, messageOf } from './backoff.js';
import { BodyParser, type ParseCounts, type RegistryParseOptions } from './body-parser.js';
import type { EurekaEntry } from './eureka-answer.js';
import { type EurekaInstance, EurekaServiceBuilder } from './eureka-services.js';
import { RegistryLimitError, readBody } from './http-body.js';
import { type EurekaLocation, parseEurekaLocation } from './locations.js';
import { RegistryBase } from './registry-base.js';
import type { RegistryLimits } from './registry-limits.js';

export type { EurekaInstance } from './eureka-services.js';

/** Options of {@link EurekaRegistry}. */
export interface EurekaRegistryOptions {
  /** The most instances it holds; more are left out and reported. Default 100,000. */
  readonly maxInstances?: number;
  /** The largest delay between retries after an error, in milliseconds; default the interval. */
  readonly maxBackoffMs?: number;
  /** Bounds on its content and responses; unset ones take `defaultRegistryLimits`. */
  readonly limits?: Partial<RegistryLimits>;
  /** How answers are parsed off the event loop (`BodyParser`); unset ones take `defaultParseOptions`. */
  readonly parse?: Partial<RegistryParseOptions>;
}

/** How long a deleted instance is remembered, to keep an older full answer from bringing it back: 10 minutes. */
export const eurekaTombstoneMs = 10 * 60_000;

function versionOf(instance: EurekaInstance): number | undefined {
  const value = Number(instance.lastUpdatedTimestamp);
  return instance.lastUpdatedTimestamp === undefined || !Number.isFinite(value) ? undefined : value;
}

/** An answer (`/apps` or `/apps/delta`) as kept: its entries and the server's reconcile hash. */
interface Applications {
  readonly hashcode: string | undefined;
  readonly entries: readonly EurekaEntry[];
}

/** Eureka's reconcile hash of a set of instances: `STATUS_count_` for each status, in status order. */
export function eurekaHashcode(instances: Iterable<EurekaInstance>): string {
  const counts = new Map<string, number>();
  for (const instance of instances) {
    const status = instance.status ?? 'UNKNOWN';
    counts.set(status, (counts.get(status) ?? 0) + 1);
  }
  return [...counts.keys()]
    .sort()
    .map((status) => `${status}_${counts.get(status)}_`)
    .join('');
}

/** A registry over a Eureka server's REST API. */
export class EurekaRegistry extends RegistryBase {
  /** Always `eureka`. */
  readonly kind = 'eureka' as const;
  /** `http://HOST:PORT/eureka[?interval=…]`. */
  readonly location: string;
  readonly #where: EurekaLocation;
  readonly #maxInstances: number;
  readonly #maxBackoff: number;
  readonly #parseOptions: Partial<RegistryParseOptions>;
  #parser: BodyParser;
  #abort = new AbortController();
  /** Instances by `APP/instanceId`. */
  #instances = new Map<string, EurekaInstance>();
  /** Deleted instances by `APP/instanceId`: the version of the deletion and when it was seen (local clock). */
  readonly #tombstones = new Map<string, { version: number; seenAt: number }>();
  /** The services built from `#instances`, kept by object between polls. */
  readonly #builder = new EurekaServiceBuilder();
  /**
   * Whether `#instances` changed since they were last published (true at start and after an error; a delta applied
   * before a hash mismatch stays unpublished until the full fetch after it).
   */
  #dirty = true;

  /** @param location `http://HOST:PORT/eureka[?interval=1s]` */
  constructor(location: string, options: EurekaRegistryOptions = {}) {
    super(options.limits);
    this.location = location;
    this.#where = parseEurekaLocation(location);
    this.#maxInstances = options.maxInstances ?? 100_000;
    this.#maxBackoff = options.maxBackoffMs ?? Math.max(this.#where.intervalMs, 1_000);
    this.#parseOptions = options.parse ?? {};
    this.#parser = new BodyParser(this.#parseOptions);
  }

  /** What its parser has done (answers parsed on the event loop and by the worker). */
  parseCounts(): ParseCounts {
    return this.#parser.counts();
  }

  /** Starts polling. */
  start(): void {
    this.#abort = new AbortController();
    this.#parser = new BodyParser(this.#parseOptions);
    this.#dirty = true;
    void this.#loop();
  }

  /** Stops polling. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#parser.close();
  }

  async #fetch(path: string, signal: AbortSignal): Promise<Applications> {
    const response = await fetch(`${this.#where.base}${path}`, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.any([signal, AbortSignal.timeout(15_000)]),
    });
    if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status}`);
    const parser = this.#parser;
    // parsed and reduced to the kept fields off the event loop when it is large (rule L4)
    const out = await readBody(
      response,
      this.limits.maxRegistryResponseBytes,
      `GET ${path}`,
      undefined,
      (bytes) =>
        parser.parse(
          bytes,
          {
            kind: 'eureka-apps',
            maxInstances: this.#maxInstances,
            maxLabelBytes: this.limits.maxInstanceLabelBytes,
          },
          `GET ${path}`,
        ),
    );
    return { hashcode: out.meta.hashcode, entries: out.items };
  }

  async #loop(): Promise<void> {
    const signal = this.#abort.signal;
    const backoff = new Backoff({ initialMs: 200, maxMs: this.#maxBackoff });
    let needFull = true;
    while (!signal.aborted) {
      try {
        if (needFull) {
          const all = await this.#fetch('/apps', signal);
          const fresh = new Map<string, EurekaInstance>();
          this.#apply(all, fresh, this.#instances);
          // what the full answer missed (it may be older than what was applied before): the delta, before any push
          const delta = await this.#fetch('/apps/delta', signal);
          this.#apply(delta, fresh, fresh);
          if (!sameInstances(fresh, this.#instances)) this.#dirty = true;
          this.#instances = fresh;
          needFull = !this.#consistent(delta);
        } else {
          const delta = await this.#fetch('/apps/delta', signal);
          if (this.#apply(delta, this.#instances, this.#instances)) this.#dirty = true;
          if (!this.#consistent(delta)) {
            // a delta was missed (or the server restarted): fetch everything at once
            needFull = true;
            continue;
          }
        }
        if (signal.aborted) return;
        backoff.reset();
        // a poll that changed nothing costs nothing (rule L2): the services built last time stand
        if (this.#dirty) this.#publish();
        await delay(this.#where.intervalMs, signal);
      } catch (error) {
        if (signal.aborted) return;
        this.#dirty = true;
        this.reportProblem(
          `eureka ${this.#where.base}: ${messageOf(error)}`,
          error instanceof RegistryLimitError ? 'limit' : 'connection',
        );
        needFull = true;
        await delay(backoff.next(), signal);
      }
    }
  }

  /** Whether the instances held agree with the server's reconcile hash (a delta without one is taken as agreeing). */
  #consistent(delta: Applications): boolean {
    const expected = delta.hashcode;
    return expected === undefined || expected === eurekaHashcode(this.#instances.values());
  }

  /**
   * Applies a full answer or a delta to `into`; `held` is what the adapter knew before (the same map for a delta).
   * An entry older than the one held, or than a deletion seen, is ignored; an entry equal to the one held keeps the
   * held object (what was built from it is kept by object). Returns whether `into` changed.
   */
  #apply(
    body: Applications,
    into: Map<string, EurekaInstance>,
    held: ReadonlyMap<string, EurekaInstance>,
  ): boolean {
    let changed = false;
    const now = Date.now();
    for (const [key, tomb] of this.#tombstones) {
      if (now - tomb.seenAt < eurekaTombstoneMs) break; // insertion order: the oldest first
      this.#tombstones.delete(key);
    }
    for (const { key, deleted, instance } of body.entries) {
      const version = versionOf(instance);
      const known = held.get(key);
      const knownVersion = known === undefined ? undefined : versionOf(known);
      if (version !== undefined && knownVersion !== undefined && version < knownVersion) {
        if (known !== undefined && !into.has(key)) into.set(key, known); // keep the newer one held
        continue;
      }
      const tomb = this.#tombstones.get(key);
      if (deleted) {
        if (into.delete(key)) changed = true;
        if (version !== undefined && (tomb === undefined || tomb.version < version)) {
          this.#tombstones.delete(key);
          if (this.#tombstones.size < this.#maxInstances) this.#tombstones.set(key, { version, seenAt: now });
        }
        continue;
      }
      if (version !== undefined && tomb !== undefined && version <= tomb.version) continue;
      if (!into.has(key) && into.size >= this.#maxInstances) continue;
      // the kept fields only (eureka-answer.ts), made where the answer was parsed
      const next = known !== undefined && sameInstance(known, instance) ? known : instance;
      if (into.get(key) !== next) {
        into.set(key, next);
        changed = true;
      }
    }
    return changed;
  }

  /**
   * Builds the services and hands them to `replaceServices`; an expansion over `maxRegistryInstances` (counted
   * before it is built) is a `limit` problem instead: the previous services stay, the registry is stale.
   */
  #publish(): void {
    this.#dirty = false;
    const built = this.#builder.build(this.#instances, this.limits);
    if (built.overLimit !== undefined) {
      this.reportProblem(`eureka ${this.#where.base}: ${built.overLimit}`, 'limit');
      return;
    }
    const problems = built.problems;
    let leftOut = built.leftOut;
    if (this.#instances.size >= this.#maxInstances) {
      problems.unshift({
        message: `at the limit of ${this.#maxInstances} instances (maxInstances)`,
        at: new Date(),
      });
      leftOut++;
    }
    this.replaceServices(built.services, problems, { leftOut });
  }
}

/** Whether two instances are the same JSON (one server writes its fields in one order). */
function sameInstance(a: EurekaInstance, b: EurekaInstance): boolean {
  return a === b || (versionOf(a) === versionOf(b) && JSON.stringify(a) === JSON.stringify(b));
}

/** Whether two maps hold the same instance objects under the same keys. */
function sameInstances(
  a: ReadonlyMap<string, EurekaInstance>,
  b: ReadonlyMap<string, EurekaInstance>,
): boolean {
  if (a.size !== b.size) return false;
  for (const [key, instance] of a) if (b.get(key) !== instance) return false;
  return true;
}
