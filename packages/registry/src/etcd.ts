/**
 * The etcd adapter (v3 API, `etcd3` client): services are JSON documents in the model file's schema under
 * `PREFIX/services/<namespace>/<name>`. It lists the prefix in ranges at one revision (etcd-list.ts: each range
 * bounded in keys and bytes, the event loop free between them), then watches it from the next revision; a lost
 * stream is resumed by the client from the last revision seen; a compacted revision ends the watch, and the
 * adapter lists again. A bad document is left out and reported as an item error; the others are served.
 *
 * Bounded (rule L2): anyone who can write under the prefix controls the keys, so what is kept per key is bounded.
 * Valid documents: at most `maxServices`, each within `maxDocumentBytes`. Invalid keys are not kept at all: they are
 * counted (every key under the prefix that is not a held document is invalid, and etcd says whether a put created
 * its key, so the count needs no key), and the first {@link maxItemErrors} of them are kept as examples for the
 * status, each key and message cut to {@link maxQuotedBytes} bytes (kept-text.ts). 10,000 invalid keys of 8,000 characters used
 * to cost 85 MiB of memory, kept for as long as the keys existed.
 */

import { formatModelError, validateModel } from '@xds/generator';
import { ConsecutiveBreaker, circuitBreaker, ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import { Etcd3, GRPCResourceExhastedError, type IKeyValue, isRecoverableError, type Watcher } from 'etcd3';
import { Backoff, delay, messageOf } from './backoff.js';
import { listEtcdPaged } from './etcd-list.js';
import { cutText, maxQuotedBytes } from './kept-text.js';
import { type EtcdLocation, parseEtcdLocation } from './locations.js';
import { maxItemErrors, RegistryBase } from './registry-base.js';
import type { RegistryLimits } from './registry-limits.js';
import type { RegistryProblem, RegistryService } from './types.js';

/** The key or problem text an item error quotes: at most {@link maxQuotedBytes}, and says so when cut. */
const cut = (text: string): string => cutText(text, maxQuotedBytes);

/** A recoverable error of the etcd client, other than a message past the receive bound. */
function recoverable(error: Error): boolean {
  return isRecoverableError(error) && !(error instanceof GRPCResourceExhastedError);
}

/** Options of {@link EtcdRegistry}. */
export interface EtcdRegistryOptions {
  /** The cluster domain of the host names (`<name>.<namespace>.svc.<domain>`); default `cluster.local`. */
  readonly domain?: string;
  /** The most services it holds; more are left out and reported. Default `limits.maxRegistryServices`. */
  readonly maxServices?: number;
  /** Bounds on its content; unset ones take `defaultRegistryLimits`. */
  readonly limits?: Partial<RegistryLimits>;
  /** The largest document in bytes; larger ones are left out and reported. Default 1 MiB. */
  readonly maxDocumentBytes?: number;
  /** The largest delay between reconnection attempts, in milliseconds; default 5,000. */
  readonly maxBackoffMs?: number;
  /** The keys asked for in each range of a list; default 500. */
  readonly listPageSize?: number;
  /**
   * The most bytes of one gRPC message from etcd (a list's range, a watch response); default 4 MiB (gRPC's own
   * default), never more than `limits.maxRegistryResponseBytes`. A range past it is asked again with half the keys.
   */
  readonly maxPageBytes?: number;
}

/** The documents held and the invalid keys counted (one list fills a new one; the watch changes it). */
interface EtcdState {
  /** The documents by key (only the valid ones, at most `maxServices`). */
  readonly docs: Map<string, RegistryService>;
  /** How many keys under the prefix are not in `docs` (invalid ones). */
  bad: number;
  /** The first invalid keys' problems, at most {@link maxItemErrors}, by key. */
  readonly examples: Map<string, RegistryProblem>;
}

function emptyState(): EtcdState {
  return { docs: new Map(), bad: 0, examples: new Map() };
}

/** A registry over etcd documents. */
export class EtcdRegistry extends RegistryBase {
  /** Always `etcd`. */
  readonly kind = 'etcd' as const;
  /** `http://HOST:PORT/PREFIX`. */
  readonly location: string;
  readonly #where: EtcdLocation;
  readonly #domain: string;
  readonly #maxServices: number;
  readonly #maxBytes: number;
  readonly #maxBackoff: number;
  #client: Etcd3 | undefined;
  #watcher: Watcher | undefined;
  #abort = new AbortController();
  readonly #pageSize: number;
  readonly #maxPageBytes: number;
  /** What is held: replaced whole by a list, changed by the watch. */
  #state: EtcdState = emptyState();

  /** @param location `http://HOST:PORT/PREFIX` */
  constructor(location: string, options: EtcdRegistryOptions = {}) {
    super(options.limits);
    this.location = location;
    this.#where = parseEtcdLocation(location);
    this.#domain = options.domain ?? 'cluster.local';
    this.#maxServices = options.maxServices ?? this.limits.maxRegistryServices;
    this.#maxBytes = options.maxDocumentBytes ?? 1024 * 1024;
    this.#maxBackoff = options.maxBackoffMs ?? 5_000;
    this.#pageSize = Math.max(1, Math.floor(options.listPageSize ?? 500));
    this.#maxPageBytes = Math.min(
      options.maxPageBytes ?? 4 * 1024 * 1024,
      this.limits.maxRegistryResponseBytes,
    );
  }

  /** The key prefix of the service documents: `PREFIX/services/`. */
  get servicesPrefix(): string {
    return `${this.#where.prefix}/services/`;
  }

  /** Connects, lists and watches (retrying with backoff until it succeeds). */
  start(): void {
    this.#abort = new AbortController();
    this.#client = new Etcd3({
      hosts: `http://${this.#where.host}`,
      dialTimeout: 2_000,
      // each message from etcd (a list's range, a watch response) is bounded: a range past it is asked again smaller
      grpcOptions: { 'grpc.max_receive_message_length': this.#maxPageBytes },
      faultHandling: {
        // etcd3's own policies (a breaker that opens after 3 recoverable errors, 3 attempts), except that a range
        // past maxPageBytes (RESOURCE_EXHAUSTED) is not a sick server: the list asks again with fewer keys at once
        host: () =>
          circuitBreaker(handleWhen(recoverable), {
            halfOpenAfter: 5_000,
            breaker: new ConsecutiveBreaker(3),
          }),
        global: retry(handleWhen(recoverable), { maxAttempts: 3 }),
        // etcd3 takes a started backoff (with a duration), not a factory
        watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: this.#maxBackoff }).next(),
      },
    });
    void this.#listAndWatch();
  }

  /** Cancels the watch and closes the client. */
  async stop(): Promise<void> {
    this.#abort.abort();
    this.cancelUpdate();
    const watcher = this.#watcher;
    this.#watcher = undefined;
    if (watcher !== undefined) await watcher.cancel().catch(() => {});
    this.#client?.close();
    this.#client = undefined;
  }

  async #listAndWatch(): Promise<void> {
    const backoff = new Backoff({ maxMs: this.#maxBackoff });
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      const client = this.#client;
      if (client === undefined) return;
      try {
        // in ranges at one revision (etcd-list.ts), into a new state: what is held stays until the list is whole
        let state = emptyState();
        const listed = await listEtcdPaged(
          client,
          this.servicesPrefix,
          { pageSize: this.#pageSize, maxPageBytes: this.#maxPageBytes, timeoutMs: 10_000 },
          signal,
          (kv) => this.#apply(kv, false, state),
          () => {
            state = emptyState();
          },
        );
        if (signal.aborted) return;
        this.#state = state;
        this.scheduleUpdate(() => this.#publish());
        // watcher() rather than create(): the handlers are attached before the first connection, so a server
        // that goes away while the watch is being created is seen (as `disconnected`)
        const watcher = client
          .watch()
          .prefix(this.servicesPrefix)
          .startRevision(String(BigInt(listed.revision) + 1n))
          .watcher();
        this.#watcher = watcher;
        backoff.reset();
        const ended = new Promise<string>((resolve) => {
          watcher.on('put', (kv) => {
            // version 1: the put created the key; otherwise it existed, valid (held) or invalid (counted)
            this.#apply(kv, kv.version !== '1');
            this.scheduleUpdate(() => this.#publish());
          });
          watcher.on('delete', (kv) => {
            const key = kv.key.toString();
            // etcd reports the deletion of a key that existed: held, or one of the invalid ones counted
            const state = this.#state;
            if (!state.docs.delete(key)) state.bad = Math.max(0, state.bad - 1);
            state.examples.delete(key);
            this.scheduleUpdate(() => this.#publish());
          });
          watcher.on('disconnected', (error: Error) =>
            this.reportProblem(`etcd watch disconnected: ${error.message}`),
          );
          // the client re-creates the watch from the last revision; the content did not change meanwhile
          // unless events arrive, so this clears `stale` without emitting a change
          watcher.on('connected', () => this.scheduleUpdate(() => this.#publish()));
          watcher.on('error', (error: Error) => resolve(error.message));
          signal.addEventListener('abort', () => resolve('stopped'), { once: true });
        });
        const reason = await ended;
        this.#watcher = undefined;
        if (signal.aborted) {
          await watcher.cancel().catch(() => {});
          return;
        }
        // the server canceled this watch already: cancelling it again would wait for an answer that never comes
        // a compacted start revision (or any other cancel) ends the watch: list again
        this.reportProblem(`etcd watch ended (${reason}); listing again`);
      } catch (error) {
        if (signal.aborted) return;
        this.reportProblem(`etcd ${this.#where.host}: ${messageOf(error)}`);
        await delay(backoff.next(), signal);
      }
    }
  }

  /**
   * Applies one key's value: held when it is a valid document, else counted as invalid (and kept as an example while
   * fewer than {@link maxItemErrors} are). `existed`: the key was there before this put (so, when it is not held, it
   * is already counted).
   */
  #apply(kv: IKeyValue, existed: boolean, state: EtcdState = this.#state): void {
    const key = kv.key.toString();
    const { docs, examples } = state;
    const wasBad = existed && !docs.has(key);
    const problem = (message: string): void => {
      docs.delete(key);
      if (!wasBad) state.bad++;
      if (examples.has(key) || examples.size < maxItemErrors) {
        examples.set(key, { message: cut(message), at: new Date(), item: cut(key) });
      }
    };
    const rest = key.slice(this.servicesPrefix.length).split('/');
    if (rest.length !== 2 || rest[0] === '' || rest[1] === '') {
      problem(`key ${cut(key)} is not ${this.servicesPrefix}<namespace>/<name>`);
      return;
    }
    const [namespace, name] = rest as [string, string];
    if (kv.value.length > this.#maxBytes) {
      problem(`${kv.value.length} bytes is over the limit of ${this.#maxBytes} bytes (maxDocumentBytes)`);
      return;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(kv.value.toString('utf8'));
    } catch (error) {
      problem(`not JSON: ${messageOf(error)}`);
      return;
    }
    const result = validateModel({ domain: this.#domain, services: [doc] });
    if (!result.ok) {
      problem(result.errors.map((e) => formatModelError(e).replace(/^services\[0\]\.?/, '')).join('; '));
      return;
    }
    const service = result.model.services[0]!;
    if (service.name !== name || service.namespace !== namespace) {
      problem(`the document names ${service.namespace}/${service.name}, the key ${namespace}/${name}`);
      return;
    }
    if (!docs.has(key) && docs.size >= this.#maxServices) {
      problem(`more than ${this.#maxServices} services (maxServices)`);
      return;
    }
    if (wasBad) state.bad = Math.max(0, state.bad - 1);
    examples.delete(key);
    docs.set(key, {
      hostname: `${name}.${namespace}.svc.${this.#domain}`,
      name,
      namespace,
      ports: service.ports,
      instances: service.endpoints.map((e) => ({
        address: e.address,
        ...(e.port === undefined ? {} : { port: e.port }),
        ports: e.ports,
        labels: e.labels,
        locality: e.locality,
        weight: e.weight,
        healthy: e.healthy,
      })),
      subsets: service.subsets,
      routes: service.routes,
    });
  }

  #publish(): void {
    const { docs, bad, examples } = this.#state;
    this.replaceServices(docs.values(), [...examples.values()], {
      leftOut: bad,
    });
  }
}
