// Helpers for this package's tests: HTTP GET, an in-process server with its logs in memory, polling, temp dirs.
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { createLogger } from './logger.js';
import { type ReferenceServer, startReferenceServer } from './reference-server.js';

/**
 * GETs (or sends `method` to) a path of an HTTP server at `host:port`, on a connection of its own. Not on the global
 * agent's kept-alive sockets: when this process's event loop stalls for 2 s or more (a loaded machine, a large
 * snapshot built on the main thread) across a socket's idle window, a request due before the agent's idle close
 * (4 s) goes out on the socket that the in-process server's idle timer (6 s), overdue in the same turn, then closes
 * unread: the request fails with `read ECONNRESET` (model-reload.test.ts did, at load 40).
 */
export function get(
  address: string,
  path: string,
  method = 'GET',
): Promise<{ status: number; type: string; body: string }> {
  const at = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const req = request(
      { host: address.slice(0, at), port: Number(address.slice(at + 1)), path, method, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** GETs a JSON page. */
export async function getJson<T = unknown>(address: string, path: string): Promise<T> {
  const response = await get(address, path);
  if (response.status !== 200) throw new Error(`GET ${path}: ${response.status} ${response.body}`);
  return JSON.parse(response.body) as T;
}

/**
 * Calls `probe` until it returns a value other than undefined, or throws after `timeoutMs` with the last thing
 * seen. For state that shows only by polling (HTTP pages); events are awaited directly elsewhere. The default
 * deadline is generous: it only matters on failure, and CI runs every package's tests at once on two cores.
 */
export async function poll<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `${what}: not within ${timeoutMs} ms${last === undefined ? '' : ` (last: ${String(last)})`}`,
      );
    }
    await delay(everyMs);
  }
}

/** A temporary folder, removed by the returned function. */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'xds-server-test-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A pino destination that keeps the JSON log lines in memory. */
export function memoryLog(): { stream: Writable; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line));
      callback();
    },
  });
  return { stream, lines };
}

/**
 * Starts the server in this process on free loopback ports, logging to memory at debug level; `reloadTimeoutMs`
 * (the bound on reading a changed model file) when a test must not depend on how fast a loaded machine parses.
 */
export async function startInProcess(
  config?: string,
  options: { readonly reloadTimeoutMs?: number } = {},
): Promise<{ server: ReferenceServer; logs: Record<string, unknown>[] }> {
  const log = memoryLog();
  const server = await startReferenceServer({
    config,
    xds: '127.0.0.1:0',
    admin: '127.0.0.1:0',
    logger: createLogger('debug', log.stream),
    debounceMs: 50,
    pollMs: 200,
    closeGraceMs: 1000,
    ...(options.reloadTimeoutMs === undefined ? {} : { reloadTimeoutMs: options.reloadTimeoutMs }),
  });
  return { server, logs: log.lines };
}

/**
 * Saves a file the way editors do: writes a new file beside it and renames it over the old one, so that a reader
 * (the model file's worker thread) sees the old text or the new one, never a half-written file.
 */
export function save(path: string, text: string): void {
  writeFileSync(`${path}.saving`, text);
  renameSync(`${path}.saving`, path);
}
