// For the Kubernetes adapter's tests of an apiserver that misbehaves (rule L2): a real kube-apiserver always answers
// and validates what it stores, so this plain-HTTP loopback proxy in front of it (the kubeconfig's token passed
// through) can hold watches open with nothing after their headers, stop lists mid-body, and rewrite list answers
// (objects past Kubernetes' own validation); everything else goes to the real apiserver.
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
  const server = createServer((request, response) => {
    open.add(response);
    response.on('close', () => open.delete(response));
    const path = request.url ?? '/';
    const watch = /[?&]watch=true/.test(path);
    if (watch && silentWatches > 0) {
      silentWatches--;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.flushHeaders();
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
          response.writeHead(answer.statusCode ?? 502, { 'content-type': 'application/json' }).end(body);
        });
        return;
      }
      if (!stall) {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        response.flushHeaders();
        answer.pipe(response);
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
    close: async () => {
      for (const response of open) response.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
