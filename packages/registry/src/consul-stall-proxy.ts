// For the Consul adapter's tests of one broken service among good ones (rule L2): a real Consul cannot be made to
// hang one service's health answer mid-body, or to stream an endless one, so this loopback HTTP proxy stands in for
// a broken agent for the services it is told to break, and passes every other request to the real Consul agent
// behind it (blocking queries included), so the other services come from the real server.
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What every broken health answer starts with, before the bytes `stream` asks for. */
export const brokenAnswerStart = '[{"Service":{"ID":"x","Port":1,"Address":"192.0.2.9","Tags":["';

/** A proxy in front of a real Consul agent that breaks the health answers of some services. */
export interface ConsulStallProxy {
  /** `http://127.0.0.1:PORT` of the proxy. */
  readonly url: string;
  /** The health answer of `name` starts (status 200, `[`) and never ends. */
  hang(name: string): void;
  /** The health answer of `name` streams `bytes` bytes of a JSON string, then never ends. */
  stream(name: string, bytes: number): void;
  /** The health queries of `name` wait here, unanswered, until {@link ConsulStallProxy.release} (then go on). */
  hold(name: string): void;
  /** Passes the held health queries of `name` on to Consul, and every later one. */
  release(name: string): void;
  /**
   * The next health query of `name` is answered with `body` (status 200, index 7), and the later ones are held open
   * unanswered (a blocking query that sees no change).
   */
  answer(name: string, body: Buffer): void;
  /** `listener` is called with the service's name of each health query as it comes. */
  onQuery(listener: (name: string) => void): void;
  /** `listener` is called with the service's name once all of an `answer` body was written. */
  onAnswered(listener: (name: string) => void): void;
  /** The bytes streamed so far by every `stream` answer. */
  streamed(): number;
  /** Ends every open answer and closes the proxy. */
  close(): Promise<void>;
}

/** Starts a {@link ConsulStallProxy} on a free loopback port in front of `consulUrl`. */
export async function startConsulStallProxy(consulUrl: string): Promise<ConsulStallProxy> {
  const broken = new Map<string, number>();
  /** The queries waiting for each held service. */
  const held = new Map<string, (() => void)[]>();
  const open = new Set<ServerResponse>();
  let streamed = 0;
  /** The bodies to answer, by service; a service answered once holds its later queries (undefined). */
  const answers = new Map<string, Buffer | undefined>();
  const queryListeners: ((name: string) => void)[] = [];
  const answeredListeners: ((name: string) => void)[] = [];
  const head = { 'content-type': 'application/json', 'x-consul-index': '7', 'x-consul-knownleader': 'true' };
  const server = createServer((request, response) => {
    open.add(response);
    response.on('close', () => open.delete(response));
    const path = request.url ?? '/';
    const match = /^\/v1\/health\/service\/([^?]+)/.exec(path);
    const name = match === null ? undefined : decodeURIComponent(match[1]!);
    if (name !== undefined) for (const listener of queryListeners) listener(name);
    if (name !== undefined && answers.has(name)) {
      const body = answers.get(name);
      if (body === undefined) return; // held open: no change
      answers.set(name, undefined);
      response.writeHead(200, head).end(body, () => {
        for (const listener of answeredListeners) listener(name);
      });
      return;
    }
    const bytes = name === undefined ? undefined : broken.get(name);
    if (bytes !== undefined) {
      response.writeHead(200, head);
      response.write(brokenAnswerStart);
      const chunk = Buffer.alloc(64 * 1024, 'a');
      let sent = 0;
      // writes at most `bytes` (0 for a hang), as fast as the client reads, then holds the answer open
      const pump = (): void => {
        while (!response.destroyed && sent < bytes) {
          const part = chunk.subarray(0, Math.min(chunk.length, bytes - sent));
          sent += part.length;
          streamed += part.length;
          if (!response.write(part)) {
            response.once('drain', pump);
            return;
          }
        }
      };
      pump();
      return;
    }
    const upstream = new AbortController();
    response.on('close', () => upstream.abort());
    const forward = async (): Promise<void> => {
      try {
        const answer = await fetch(`${consulUrl}${path}`, { signal: upstream.signal });
        const headers: Record<string, string> = {};
        for (const key of ['content-type', 'x-consul-index', 'x-consul-knownleader']) {
          const value = answer.headers.get(key);
          if (value !== null) headers[key] = value;
        }
        const body = Buffer.from(await answer.arrayBuffer());
        response.writeHead(answer.status, headers).end(body);
      } catch {
        response.destroy();
      }
    };
    const waiting = name === undefined ? undefined : held.get(name);
    if (waiting !== undefined) waiting.push(() => void forward());
    else void forward();
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hang: (name) => broken.set(name, 0),
    stream: (name, bytes) => broken.set(name, bytes),
    hold: (name) => {
      if (!held.has(name)) held.set(name, []);
    },
    release: (name) => {
      const waiting = held.get(name) ?? [];
      held.delete(name);
      for (const go of waiting) go();
    },
    answer: (name, body) => answers.set(name, body),
    onQuery: (listener) => queryListeners.push(listener),
    onAnswered: (listener) => answeredListeners.push(listener),
    streamed: () => streamed,
    close: async () => {
      for (const response of open) response.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
