/**
 * The Kubernetes adapter's reads of kube-apiserver, each bounded in bytes like every other registry response: a list
 * page (kube-list.ts asks for them) is read chunk by chunk and cancelled once it goes past its bound, before any of
 * it is parsed, and a watch stream is split into its event lines with a bound on each line. `@kubernetes/client-node`
 * reads a list whole and splits a watch with `readline`, which holds a line of any length, so an apiserver (or
 * anything in its place) could make this process hold any number of bytes. The requests carry the kubeconfig's credentials (`applyToFetchOptions`: TLS
 * agent, token or basic auth), so they authenticate like the client's own.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { joined, RegistryLimitError } from './http-body.js';

/**
 * What a watch request ended with: `gone` for 410 (list again), `error` for anything but a normal end, `overLimit`
 * when an event line went past the limit (the watch cannot move past that event: list again, after a backoff).
 */
export interface WatchEnd {
  readonly gone: boolean;
  readonly error?: string;
  readonly overLimit?: boolean;
}

/** An HTTP status other than 200 from kube-apiserver, with the status message of its body when there is one. */
export class KubeStatusError extends Error {
  override readonly name = 'KubeStatusError';
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** The idle time before TCP keepalive probes start on a connection to kube-apiserver. */
const keepAliveMs = 30_000;

/** The most bytes of an error body read for its message. */
const maxErrorBodyBytes = 64 * 1024;

/** Starts `GET path?query` on the kubeconfig's current cluster; resolves with the response (any status). */
async function get(
  config: KubeConfig,
  path: string,
  query: Readonly<Record<string, string>>,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  const cluster = config.getCurrentCluster();
  if (cluster === null) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(cluster.server + path);
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
  const init = await config.applyToFetchOptions({});
  const headers: Record<string, string> = { accept: 'application/json' };
  // node-fetch's Headers (the client builds them so), typed by node-fetch as any HeadersInit
  const given = init.headers as { forEach(each: (value: string, key: string) => void): void } | undefined;
  given?.forEach((value, key) => {
    headers[key] = value;
  });
  const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
    method: 'GET',
    headers,
    signal,
    ...(init.agent === undefined ? {} : { agent: init.agent as never }),
  });
  // a peer that went away without a RST (a NAT or load balancer that dropped the flow) is found by the kernel too
  request.once('socket', (socket) => socket.setKeepAlive(true, keepAliveMs));
  return new Promise((resolve, reject) => {
    request.once('response', resolve);
    request.once('error', reject);
    request.end();
  });
}

/** Reads a whole body up to `maxBytes` (in a buffer of its own); past it, destroys the response and throws `tooLarge()`. */
function readBody(response: IncomingMessage, maxBytes: number, tooLarge: () => Error): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    response.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) {
        response.destroy();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    response.once('end', () => resolve(joined(chunks, total)));
    response.once('error', reject);
    response.once('close', () => reject(new Error('the connection closed before the body ended')));
  });
}

/** The error of a response that is not 200: its status and the `message` of its Status body. */
async function statusError(response: IncomingMessage): Promise<KubeStatusError> {
  const code = response.statusCode ?? 0;
  let message = `HTTP ${code}`;
  try {
    const body = await readBody(response, maxErrorBodyBytes, () => new Error('too large'));
    const status = JSON.parse(new TextDecoder().decode(body)) as { message?: unknown };
    if (typeof status.message === 'string') message = `HTTP ${code}: ${status.message}`;
  } catch {
    response.destroy();
  }
  return new KubeStatusError(code, message);
}

/** A list page larger than the bound it was read with (the page is cancelled as it streams, never parsed). */
export class PageTooLargeError extends RegistryLimitError {
  constructor(
    /** What was read: `more than N` or the declared length. */
    readonly bytes: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads one list page, `GET path?query`: the body's bytes (unparsed: the adapter's parse worker parses them), read up
 * to `maxBytes` and within `timeoutMs` (headers and body; a page that stalls is abandoned). Past `maxBytes` the read
 * is cancelled.
 * @throws PageTooLargeError (its message from `tooLarge`) when the body is larger; a KubeStatusError for a status
 *   other than 200; an error naming `listTimeoutMs` when the time runs out
 */
export async function getPage(
  config: KubeConfig,
  path: string,
  query: Readonly<Record<string, string>>,
  page: {
    readonly maxBytes: number;
    readonly timeoutMs: number;
    readonly tooLarge: (bytes: string) => string;
  },
  what: string,
  signal: AbortSignal,
): Promise<Uint8Array> {
  const deadline = AbortSignal.timeout(page.timeoutMs);
  try {
    const response = await get(config, path, query, AbortSignal.any([signal, deadline]));
    if (response.statusCode !== 200) throw await statusError(response);
    const tooLarge = (bytes: string): PageTooLargeError => new PageTooLargeError(bytes, page.tooLarge(bytes));
    const declared = Number(response.headers['content-length'] ?? Number.NaN);
    if (Number.isFinite(declared) && declared > page.maxBytes) {
      response.destroy();
      throw tooLarge(String(declared));
    }
    return await readBody(response, page.maxBytes, () => tooLarge(`more than ${page.maxBytes}`));
  } catch (error) {
    if (deadline.aborted && !signal.aborted)
      throw new Error(`${what}: no full answer within ${page.timeoutMs} ms (listTimeoutMs)`);
    throw error;
  }
}

/**
 * The client-side time bounds of a watch: the apiserver is asked to end it after its `timeoutSeconds`, but a dead or
 * hostile peer does not, so it is abandoned `deadlineMs` after it began, and when no byte came for `idleMs` (the
 * apiserver sends a bookmark about once a minute when asked for them).
 */
export interface WatchTimes {
  /** The most time a watch lasts, headers included. */
  readonly deadlineMs: number;
  /** The most time without a byte (headers included). */
  readonly idleMs: number;
}

/** One watch request (see {@link watchBounded}). */
export interface WatchRequest {
  readonly config: KubeConfig;
  /** The collection watched, e.g. `/api/v1/pods`. */
  readonly path: string;
  /** Its query (`watch=true` is added). */
  readonly query: Readonly<Record<string, string>>;
  /** The bound on each event line (`maxPageBytes`, or `maxRegistryResponseBytes` when that is smaller). */
  readonly maxLineBytes: number;
  /** The limit `maxLineBytes` comes from, named in errors. */
  readonly maxLineBytesName: string;
  /** What the watch is called in errors. */
  readonly what: string;
  readonly signal: AbortSignal;
  /** `opened` once the apiserver accepted the watch; `event` with each event (returning true ends the watch). */
  readonly handlers: {
    readonly opened: () => void;
    readonly event: (type: string, object: unknown) => boolean;
  };
  /** Its client-side time bounds; default 330 s and 120 s. */
  readonly times?: WatchTimes;
}

/**
 * Watches `request.path` until the server ends the watch, the signal aborts, an event line is longer than
 * `maxLineBytes` (then the watch ends with an error naming `maxRegistryResponseBytes`), or a bound of `times` is
 * reached (an error naming it). Calls `opened` once the apiserver accepted the watch, and `event` with each event's
 * type and object; `event` returning true ends the watch.
 */
export async function watchBounded(request: WatchRequest): Promise<WatchEnd> {
  const times = request.times ?? { deadlineMs: 330_000, idleMs: 120_000 };
  const local = new AbortController();
  let timedOut: string | undefined;
  const abandon = (why: string): void => {
    timedOut ??= why;
    local.abort();
  };
  const deadline = setTimeout(
    () => abandon(`no end within ${times.deadlineMs} ms (watchTimeoutSeconds + margin)`),
    times.deadlineMs,
  );
  let idle = setTimeout(() => abandon(`no byte for ${times.idleMs} ms (watchIdleMs)`), times.idleMs);
  const active = (): void => {
    clearTimeout(idle);
    idle = setTimeout(() => abandon(`no byte for ${times.idleMs} ms (watchIdleMs)`), times.idleMs);
  };
  try {
    return await watchWithin(
      request,
      AbortSignal.any([request.signal, local.signal]),
      active,
      () => timedOut,
    );
  } finally {
    clearTimeout(deadline);
    clearTimeout(idle);
  }
}

async function watchWithin(
  { config, path, query, maxLineBytes, maxLineBytesName, what, handlers }: WatchRequest,
  signal: AbortSignal,
  active: () => void,
  timedOut: () => string | undefined,
): Promise<WatchEnd> {
  let response: IncomingMessage;
  try {
    response = await get(config, path, { ...query, watch: 'true' }, signal);
  } catch (error) {
    return { gone: false, error: timedOut() ?? (error instanceof Error ? error.message : String(error)) };
  }
  active();
  if (response.statusCode !== 200) {
    const error = await statusError(response);
    return { gone: error.statusCode === 410, error: error.message };
  }
  handlers.opened();
  return new Promise<WatchEnd>((resolve) => {
    let finished = false;
    const finish = (end: WatchEnd): void => {
      if (finished) return;
      finished = true;
      response.destroy();
      const why = timedOut();
      resolve(why === undefined ? end : { gone: false, error: `${what}: ${why}` });
    };
    signal.addEventListener('abort', () => finish({ gone: false, error: 'aborted' }), { once: true });
    // the bytes of the line read so far, before its newline
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const line = (bytes: Buffer): void => {
      if (bytes.length === 0) return;
      let parsed: { type?: unknown; object?: unknown };
      try {
        parsed = JSON.parse(bytes.toString('utf8')) as typeof parsed;
      } catch {
        finish({ gone: false, error: `a watch event that is not JSON (${bytes.length} bytes)` });
        return;
      }
      if (typeof parsed.type !== 'string') return;
      if (handlers.event(parsed.type, parsed.object)) finish({ gone: false });
    };
    const tooLong = (): WatchEnd => ({
      gone: false,
      overLimit: true,
      error: new RegistryLimitError(
        `${what}: a watch event of more than ${maxLineBytes} bytes, over the limit of ${maxLineBytes} (${maxLineBytesName})`,
      ).message,
    });
    response.on('data', (chunk: Buffer) => {
      active();
      let start = 0;
      while (!finished) {
        const newline = chunk.indexOf(10, start);
        const end = newline === -1 ? chunk.length : newline;
        if (pendingBytes + (end - start) > maxLineBytes) {
          finish(tooLong());
          return;
        }
        if (newline === -1) {
          // a copy: the rest of the chunk is not kept alive by a short piece of it
          if (end > start) pending.push(Buffer.from(chunk.subarray(start)));
          pendingBytes += end - start;
          return;
        }
        const piece = chunk.subarray(start, newline);
        line(pending.length === 0 ? piece : Buffer.concat([...pending, piece]));
        pending = [];
        pendingBytes = 0;
        start = newline + 1;
      }
    });
    // the apiserver ends a watch after `timeoutSeconds`: a normal end, resumed from the last version
    response.once('end', () => finish({ gone: false }));
    response.once('error', (error) => finish({ gone: false, error: error.message }));
    response.once('close', () => finish({ gone: false, error: 'the watch connection closed' }));
  });
}
