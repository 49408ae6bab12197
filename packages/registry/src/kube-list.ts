/**
 * A Kubernetes list read in pages (`limit` and `continue`, as kube-apiserver offers them), so that no answer is
 * parsed whole on the event loop (rule L2; probe4 F4: one 40 MiB list of `{}` parsed at once, well under the 64 MiB
 * body bound, stalled every client for 30+ s and took a gigabyte, on every relist). Each page is read up to
 * `maxPageBytes` and cancelled past it before any of it is parsed; objects are compacted page by page, and their
 * count is checked against `maxRegistryObjects` after each page; between two pages the event loop has its turn.
 * The work of one list is bounded by a count of requests. A page past the byte bound is asked again with half the
 * `limit` (fat objects; the smaller limit is kept for the rest of the list), down to one object. A `continue` token
 * that expired (`410 Gone`: etcd compacted the list's version meanwhile) starts the list again from its first page,
 * a bounded number of times. A page is parsed and compacted by the registry's parse worker (body-parser.ts), off
 * the event loop (rule L4: a 4 MiB page took about 0.7 s of it), and only the compacted objects come back.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { BodyParser } from './body-parser.js';
import { RegistryLimitError } from './http-body.js';
import { getPage, KubeStatusError, PageTooLargeError } from './kube-http.js';
import type { KubeObjects } from './parse-jobs.js';

/** How a list is paged and bounded (see {@link listPaged}). */
export interface PageBounds {
  /** The `limit` asked for each page. */
  readonly pageSize: number;
  /** The most bytes of one page. */
  readonly maxPageBytes: number;
  /** The limit `maxPageBytes` comes from, named in errors (`maxPageBytes` or `maxRegistryResponseBytes`). */
  readonly maxPageBytesName: string;
  /** `maxRegistryObjects`: the most objects a list may hold. */
  readonly maxObjects: number;
  /** The most time of one page request, headers and body (`listTimeoutMs`). */
  readonly timeoutMs: number;
}

/** A list read whole: the objects kept, by key, and the version to watch from (the last page's). */
export interface PagedList<T> {
  readonly items: Map<string, T>;
  readonly resourceVersion: string;
  /** The requests it took, pages asked again included. */
  readonly requests: number;
}

/** How many times one list starts again from its first page after its `continue` token expired. */
export const maxListRestarts = 3;

/** The most requests one list (one start) may make: twice the full pages `maxObjects` takes, and some. */
export function maxListRequests(bounds: PageBounds): number {
  return (
    2 * Math.ceil(bounds.maxObjects / bounds.pageSize) + 2 * Math.ceil(Math.log2(bounds.pageSize + 1)) + 2
  );
}

/** What is kept of each object of a list (see parse-jobs.ts): the kind, and `maxInstanceLabelBytes` for Pods. */
export interface KeepSpec {
  readonly objects: KubeObjects;
  readonly maxLabelBytes: number;
}

/**
 * Lists `path` page by page; `parser` parses each page and keeps of each object what `keep` says, under its key.
 * @throws RegistryLimitError naming `maxRegistryObjects`, the page byte limit, or the request count; a
 *   KubeStatusError for a status other than 200 (410 after {@link maxListRestarts} restarts); any read error
 */
export async function listPaged<T>(
  config: KubeConfig,
  path: string,
  bounds: PageBounds,
  signal: AbortSignal,
  parser: BodyParser,
  keep: KeepSpec,
): Promise<PagedList<T>> {
  const what = `GET ${path}`;
  const maxRequests = maxListRequests(bounds);
  let restarts = 0;
  let requests = 0;
  // the requests made before this start of the list
  let before = 0;
  for (;;) {
    const items = new Map<string, T>();
    let limit = bounds.pageSize;
    let token = '';
    let pages = 0;
    let received = 0;
    for (;;) {
      if (requests - before >= maxRequests)
        throw new RegistryLimitError(
          `${what}: no end of the list after ${maxRequests} requests (${pages} pages, ${items.size} objects; the bound is twice the pages maxRegistryObjects takes at listPageSize ${bounds.pageSize})`,
        );
      requests++;
      let body: Uint8Array;
      try {
        body = await getPage(
          config,
          path,
          token === '' ? { limit: String(limit) } : { limit: String(limit), continue: token },
          {
            maxBytes: bounds.maxPageBytes,
            timeoutMs: bounds.timeoutMs,
            tooLarge: (bytes) =>
              `${what}: a page of ${limit} object${limit === 1 ? '' : 's'} is ${bytes} bytes, over the limit of ${bounds.maxPageBytes} (${bounds.maxPageBytesName})`,
          },
          what,
          signal,
        );
      } catch (error) {
        if (error instanceof PageTooLargeError && limit > 1) {
          // fat objects: the same page again, with fewer of them (the next pages too)
          limit = Math.max(1, limit >> 1);
          continue;
        }
        if (error instanceof KubeStatusError && error.statusCode === 410 && token !== '') {
          // the continue token expired: the list starts again from its first page
          restarts++;
          if (restarts > maxListRestarts)
            throw new KubeStatusError(
              410,
              `${what}: the list's continue token expired ${restarts} times in a row (410 Gone): ${error.message}`,
            );
          before = requests;
          break;
        }
        throw error;
      }
      pages++;
      const page = await parser.parse(
        body,
        { kind: 'kube-page', ...keep, maxItems: bounds.maxObjects - received },
        what,
      );
      if (signal.aborted) throw new Error(`${what}: stopped`);
      if (!page.meta.list) throw new Error(`${what}: the answer is not a list`);
      // counted as they come, before any is compacted (not by distinct name: a hostile page may repeat one)
      received += page.meta.count;
      if (received > bounds.maxObjects)
        throw new RegistryLimitError(
          `${what}: more than ${bounds.maxObjects} objects, over the limit of ${bounds.maxObjects} (maxRegistryObjects)`,
        );
      for (const [key, kept] of page.items) items.set(key, kept as T);
      token = page.meta.continue;
      if (token === '') return { items, resourceVersion: page.meta.resourceVersion, requests };
    }
  }
}
