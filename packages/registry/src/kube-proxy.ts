// For the Kubernetes adapter's tests of an apiserver that misbehaves (rule L2): a real kube-apiserver always answers
// and validates what it stores, so this plain-HTTP loopback proxy in front of it (the kubeconfig's token passed
// through) can hold watches open with nothing after their headers, end watches at once, stop lists mid-body, answer
// list pages `410 Gone` (an expired continue token), and rewrite list answers (objects past Kubernetes' own
// validation, a server that ignores `limit`); everything else goes to the real apiserver. It logs every request.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A proxy in front of a real kube-apiserver (see the file comment). */
export interface SilentProxy {
  /** A kubeconfig of the proxy (plain HTTP, the same token). */
  readonly kubeconfig: string;
  /** The next `count` watches are answered with headers and then nothing. */
  silenceWatches(count: number): void;
  /** The next `count` lists send their headers and half their body, then nothing. */
  stallLists(count: number): void;
  /** The watches open now end (normally), and the next `count` are answered 200 with an empty body that ends at once. */
  endWatches(count: number): void;
  /** The next `count` list requests with a `continue` token are answered `410 Gone` (a token etcd compacted). */
  expireContinues(count: number): void;
  /** Every request so far: its path and query, and when it came (`performance.now()`). */
  readonly requests: readonly { readonly url: URL; readonly at: number }[];
  /** `listener` is called with the path and query of each request as it comes. */
  onRequest(listener: (path: string) => void): void;
  /** `listener` is called with the path and query of each rewritten list answer once all of it was written. */
  onRewritten(listener: (path: string) => void): void;
  close(): Promise<void>;
}

/**
 * Starts a {@link SilentProxy} on a free loopback port in front of `upstream` (`https://127.0.0.1:PORT`);
 * `rewrite(path, body)` may change the body of each list answer.
 */
export async function startSilentProxy(
  upstream: string,
  kubeconfig: string,
  rewrite?: (path: string, body: Buffer) => Buffer,
): Promise<SilentProxy> {
  const open = new Set<ServerResponse>();
  let silentWatches = 0;
  let stalledLists = 0;
  let endedWatches = 0;
  let expiredContinues = 0;
  const requests: { url: URL; at: number }[] = [];
  const requestListeners: ((path: string) => void)[] = [];
  const rewrittenListeners: ((path: string) => void)[] = [];
  // the watches passed through to the apiserver and still open: each ends its answer normally
  const liveWatches = new Set<() => void>();
  const server = createServer((request, response) => {
    open.add(response);
    response.on('close', () => open.delete(response));
    const path = request.url ?? '/';
    const url = new URL(path, 'http://proxy');
    requests.push({ url, at: performance.now() });
    for (const listener of requestListeners) listener(path);
    const watch = url.searchParams.get('watch') === 'true';
    if (watch && silentWatches > 0) {
      silentWatches--;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.flushHeaders();
      return;
    }
    if (watch && endedWatches > 0) {
      endedWatches--;
      response.writeHead(200, { 'content-type': 'application/json' }).end();
      return;
    }
    const paged = !watch && url.searchParams.has('continue');
    if (paged && expiredContinues > 0) {
      expiredContinues--;
      const status = { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410 };
      response
        .writeHead(410, { 'content-type': 'application/json' })
        .end(JSON.stringify({ ...status, message: 'The provided continue parameter is too old (proxy)' }));
      return;
    }
    const stall = !watch && stalledLists > 0;
    const edit = watch ? undefined : rewrite;
    if (stall) stalledLists--;
    const out = httpsRequest(`${upstream}${path}`, {
      headers: { ...request.headers, host: new URL(upstream).host },
      rejectUnauthorized: false,
    });
    out.on('response', (answer) => {
      if (edit !== undefined && !stall) {
        const parts: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => parts.push(chunk));
        answer.on('end', () => {
          const body = edit(path, Buffer.concat(parts));
          response
            .writeHead(answer.statusCode ?? 502, { 'content-type': 'application/json' })
            .end(body, () => {
              for (const listener of rewrittenListeners) listener(path);
            });
        });
        return;
      }
      if (watch && endedWatches > 0) {
        // a watch asked before endWatches, answered after it
        endedWatches--;
        response.writeHead(200, { 'content-type': 'application/json' }).end();
        return;
      }
      if (!stall) {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        response.flushHeaders();
        answer.pipe(response);
        if (watch) {
          const end = (): void => {
            answer.unpipe(response);
            response.end();
          };
          liveWatches.add(end);
          response.on('close', () => liveWatches.delete(end));
        }
        return;
      }
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('end', () => {
        const body = Buffer.concat(chunks);
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write(body.subarray(0, body.length >> 1));
      });
    });
    out.on('error', () => response.destroy());
    response.on('close', () => out.destroy());
    out.end();
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  const dir = mkdtempSync(join(tmpdir(), 'kube-silent-'));
  const config = join(dir, 'kubeconfig');
  writeFileSync(
    config,
    readFileSync(kubeconfig, 'utf8').replace(/server: "[^"]+"/, `server: "http://127.0.0.1:${port}"`),
  );
  return {
    kubeconfig: config,
    silenceWatches: (count) => {
      silentWatches = count;
    },
    stallLists: (count) => {
      stalledLists = count;
    },
    endWatches: (count) => {
      endedWatches = count;
      if (count > 0) for (const end of [...liveWatches]) end();
    },
    expireContinues: (count) => {
      expiredContinues = count;
    },
    requests,
    onRequest: (listener) => requestListeners.push(listener),
    onRewritten: (listener) => rewrittenListeners.push(listener),
    close: async () => {
      for (const response of open) response.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
