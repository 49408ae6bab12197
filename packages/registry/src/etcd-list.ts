/**
 * The etcd adapter's list, in pages (rule L2): the first list of a prefix used to be one range response, read whole
 * and applied in one turn of the event loop, however many keys a writer had put there (and past gRPC's 4 MiB message
 * bound, refused for ever: the registry never synced). Now the prefix is read in ranges of at most `pageSize` keys,
 * every range at the revision of the first (one consistent snapshot, as etcd's own paginated `get` does), each next
 * range starting after the last key of the one before; each range is bounded in bytes by the client's gRPC receive
 * bound (`maxPageBytes`), and one past it is asked again with half the keys, down to one. The event loop has a turn
 * between ranges. The work is bounded by a count of requests (from the count of keys etcd gives with the first
 * range); a revision compacted meanwhile starts the list again, a bounded number of times.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { type Etcd3, type IKeyValue, Range } from 'etcd3';
import { messageOf } from './backoff.js';
import { RegistryLimitError } from './http-body.js';

/** How an etcd list is paged and bounded. */
export interface EtcdPageBounds {
  /** The most keys asked for in one range. */
  readonly pageSize: number;
  /** The most bytes of one range response (the client's gRPC receive bound), named in errors. */
  readonly maxPageBytes: number;
  /** The most time of one range request, in ms. */
  readonly timeoutMs: number;
}

/** What a paged list read: its revision and the requests it took. */
export interface EtcdListed {
  readonly revision: string;
  readonly requests: number;
  readonly pages: number;
}

/** How many times a list starts again from its first range after its revision was compacted. */
export const maxEtcdListRestarts = 3;

/** The most requests one list (one start) may make for `keys` keys. */
export function maxEtcdListRequests(keys: number, pageSize: number): number {
  return 2 * Math.ceil(keys / pageSize) + 2 * Math.ceil(Math.log2(pageSize + 1)) + 2;
}

function tooLarge(error: unknown): boolean {
  return /larger than max|RESOURCE_EXHAUSTED|ResourceExhausted/i.test(
    `${(error as { name?: string } | null)?.name ?? ''} ${messageOf(error)}`,
  );
}

function compacted(error: unknown): boolean {
  return /required revision has been compacted/i.test(messageOf(error));
}

/**
 * Lists every key under `prefix` in ranges, calling `each` with each key-value in key order; `restart` is called
 * when the list starts again from its first range (the caller forgets what `each` was given).
 * @throws RegistryLimitError naming `maxPageBytes` (one key past it) or the request bound; the client's errors
 */
export async function listEtcdPaged(
  client: Etcd3,
  prefix: string,
  bounds: EtcdPageBounds,
  signal: AbortSignal,
  each: (kv: IKeyValue) => void,
  restart: () => void,
): Promise<EtcdListed> {
  const whole = Range.prefix(prefix);
  let requests = 0;
  let restarts = 0;
  for (;;) {
    let start = whole.start;
    let limit = Math.max(1, Math.floor(bounds.pageSize));
    let revision: string | undefined;
    let maxRequests = Number.POSITIVE_INFINITY;
    const before = requests;
    let pages = 0;
    let again = false;
    for (;;) {
      if (signal.aborted) throw new Error('stopped');
      if (requests - before >= maxRequests)
        throw new RegistryLimitError(
          `etcd list of ${prefix}: no end after ${requests - before} requests (${pages} ranges of at most ${bounds.pageSize} keys)`,
        );
      requests++;
      let builder = client
        .getAll()
        .inRange(new Range(start, whole.end))
        .limit(limit)
        .options({ deadline: Date.now() + bounds.timeoutMs });
      if (revision !== undefined) builder = builder.revision(revision);
      let page: Awaited<ReturnType<typeof builder.exec>>;
      try {
        page = await builder.exec();
      } catch (error) {
        if (tooLarge(error)) {
          if (limit === 1)
            throw new RegistryLimitError(
              `etcd list of ${prefix}: one key's range is over the limit of ${bounds.maxPageBytes} bytes (maxPageBytes): ${messageOf(error)}`,
            );
          // fat values: the same range again with half the keys (the next ranges too)
          limit = Math.max(1, limit >> 1);
          continue;
        }
        if (revision !== undefined && compacted(error)) {
          restarts++;
          if (restarts > maxEtcdListRestarts)
            throw new Error(
              `etcd list of ${prefix}: its revision was compacted ${restarts} times in a row: ${messageOf(error)}`,
            );
          again = true;
          break;
        }
        throw error;
      }
      pages++;
      if (revision === undefined) {
        revision = page.header.revision;
        maxRequests = maxEtcdListRequests(Number(page.count), bounds.pageSize);
      }
      for (const kv of page.kvs) each(kv);
      const last = page.kvs.at(-1);
      if (!page.more || last === undefined) return { revision, requests, pages };
      // the next range starts just after the last key
      start = Buffer.concat([last.key, Buffer.from([0])]);
      await nextTurn();
    }
    if (again) restart();
  }
}
