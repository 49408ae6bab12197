/**
 * One Kubernetes resource kind listed and then watched (rule L2): the list is read in pages (kube-list.ts), then a
 * watch from the list's `resourceVersion` applies events one by one; a watch that ends resumes from the last version
 * seen, `410 Gone` lists again, a watch that ends early (sooner than `minWatchMs`, without an event) is opened again
 * only after a backoff, and the kind holds at most `maxRegistryObjects` objects. Apart from the registry
 * (kubernetes.ts), which runs one of these per kind and maps what they hold to services.
 */
import type { KubeConfig, V1ObjectMeta } from '@kubernetes/client-node';
import { Backoff, delay, messageOf } from './backoff.js';
import type { BodyParser } from './body-parser.js';
import { RegistryLimitError } from './http-body.js';
import { kubeKey } from './kube-compact.js';
import { type WatchEnd, watchBounded } from './kube-http.js';
import { type KeepSpec, listPaged, type PageBounds } from './kube-list.js';
/** The time bounds of a kind's requests (see `KubernetesRegistryOptions`). */
export interface KubeTimes {
  readonly watchTimeoutSeconds: number;
  readonly watchIdleMs: number;
  readonly listTimeoutMs: number;
  readonly minWatchMs: number;
}

/** One resource kind listed and watched; `T` is what is kept of each object. */
export class ListWatch<R extends { metadata?: V1ObjectMeta }, T> {
  /** The objects held, by `namespace/name`: a list replaces them whole, watch events one by one. */
  items = new Map<string, T>();
  synced = false;
  /** A watch is established (not failed since); the registry is stale while any kind's is not. */
  connected = false;
  #version = '';

  constructor(
    readonly what: string,
    readonly path: string,
    readonly config: KubeConfig,
    /** How lists are paged, and the bounds of a page, of a watch event (`maxPageBytes`) and of the objects held. */
    readonly bounds: PageBounds,
    /** What is kept of an object: by the parse worker for list pages (the same code), here for watch events. */
    readonly keep: KeepSpec,
    readonly compact: (object: R) => T,
    /** The time bounds of its lists and watches. */
    readonly times: KubeTimes,
    /** Parses list pages off the event loop. */
    readonly parser: BodyParser,
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
    // the watches in a row that ended early (sooner than minWatchMs, without an event)
    let early = 0;
    while (!signal.aborted) {
      try {
        if (relist) {
          const listed = await listPaged<T>(
            this.config,
            this.path,
            this.bounds,
            signal,
            this.parser,
            this.keep,
          );
          this.items = listed.items;
          // every page carries the version of the list's snapshot; the watch starts from the last page's
          this.#version = listed.resourceVersion;
          this.synced = true;
          relist = false;
          changed();
        }
        const watched = await this.#watch(signal, changed, early > 0);
        if (signal.aborted) return;
        const { ended, gone, overLimit, lastedMs, events } = watched;
        const watchError = watched.error ?? ended.error;
        const lasted = events > 0 || lastedMs >= this.times.minWatchMs;
        if (lasted) {
          // a watch that lived (or brought something) ends a run of failures
          backoff.reset();
          early = 0;
        }
        if (ended.gone || gone) {
          relist = true;
          if (!lasted) await delay(backoff.next(), signal);
        } else if (watchError !== undefined) {
          this.connected = false;
          const limited = ended.overLimit === true || overLimit;
          problem(`${this.what} watch: ${watchError}`, limited ? 'limit' : 'connection');
          // the watch cannot move past an event it could not read or hold: list again (the list is bounded too)
          if (limited) relist = true;
          await delay(backoff.next(), signal);
        } else if (lasted) {
          // a watch the server ended normally resumes from the last version; content did not change
          changed();
        } else {
          // ended at once and brought nothing (a proxy that closes watches, an apiserver that ends them): not again
          // at once, and the registry says so
          early++;
          this.connected = false;
          const wait = backoff.next();
          problem(
            `${this.what} watch: ended ${Math.round(lastedMs)} ms after it began without an event, under ${this.times.minWatchMs} ms (minWatchMs), ${early} in a row; watching again in ${Math.round(wait)} ms`,
            'connection',
          );
          await delay(wait, signal);
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

  /**
   * One watch from the last version, applying its events. The kind counts as connected once the apiserver accepted
   * it, or, after watches that ended early (`probation`), once it lasted `minWatchMs` or brought an event.
   */
  async #watch(
    signal: AbortSignal,
    changed: () => void,
    probation: boolean,
  ): Promise<{
    ended: WatchEnd;
    gone: boolean;
    overLimit: boolean;
    error?: string;
    lastedMs: number;
    events: number;
  }> {
    let gone = false;
    let overLimit = false;
    let error: string | undefined;
    let events = 0;
    let openedAt: number | undefined;
    let proving: ReturnType<typeof setTimeout> | undefined;
    const connect = (): void => {
      clearTimeout(proving);
      if (this.connected) return;
      this.connected = true;
      changed();
    };
    const ended = await watchBounded({
      config: this.config,
      path: this.path,
      query: {
        resourceVersion: this.#version,
        allowWatchBookmarks: 'true',
        timeoutSeconds: String(this.times.watchTimeoutSeconds),
      },
      maxLineBytes: this.bounds.maxPageBytes,
      maxLineBytesName: this.bounds.maxPageBytesName,
      what: `GET ${this.path}?watch`,
      signal,
      handlers: {
        opened: () => {
          openedAt = performance.now();
          if (!probation) connect();
          else proving = setTimeout(connect, this.times.minWatchMs);
        },
        event: (type, value) => {
          const object = value as (R & { code?: number; message?: string }) | undefined;
          if (typeof object !== 'object' || object === null) return false;
          if (type === 'ERROR') {
            // the apiserver reports a compacted version (410) inside a 200 watch, which then ends
            gone = object.code === 410;
            error = object.message ?? `code ${object.code}`;
            return true;
          }
          events++;
          if (probation) connect();
          const version = object.metadata?.resourceVersion;
          if (version !== undefined) this.#version = version;
          if (type === 'BOOKMARK') return false;
          const key = kubeKey(object);
          if (type === 'DELETED') this.items.delete(key);
          else if (!this.items.has(key) && this.items.size >= this.bounds.maxObjects) {
            // one more would pass the limit: the watch ends, and the registry lists again after a backoff
            overLimit = true;
            error = `${this.what}: more than ${this.bounds.maxObjects} objects, over the limit of ${this.bounds.maxObjects} (maxRegistryObjects)`;
            return true;
          } else this.items.set(key, this.compact(object));
          changed();
          return false;
        },
      },
      times: { deadlineMs: this.times.watchTimeoutSeconds * 1000 + 30_000, idleMs: this.times.watchIdleMs },
    });
    clearTimeout(proving);
    const lastedMs = openedAt === undefined ? 0 : performance.now() - openedAt;
    return { ended, gone, overLimit, ...(error === undefined ? {} : { error }), lastedMs, events };
  }
}
