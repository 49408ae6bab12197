// Helpers of the Eureka tests, which run against a real Eureka server: register and delete instances through its
// REST API, read /apps as the adapter does, and a loopback forwarder standing between the adapter and the server
// (a load balancer in front of peers; it counts the requests it forwards).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';

/** Sends a JSON request to Eureka; fails the test on an HTTP error. */
export async function send(url: string, method: string, body?: unknown): Promise<void> {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  assert.ok(response.status < 300, `${method} ${url}: HTTP ${response.status} ${await response.text()}`);
}

/** What {@link register} may set besides the defaults. */
export interface RegisterOptions {
  /** The VIPs, comma-separated; default `<app in lower case>.eureka`. */
  readonly vipAddress?: string;
  /** The address; default 192.0.2.1. */
  readonly ipAddr?: string;
  /** More metadata, besides `version`, `protocol`, `service_port` and `zone`. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** Registers instance `id` of `app` (UP, on `192.0.2.1:port`, metadata `version`, VIP `<app>.eureka` by default). */
export function register(
  base: string,
  id: string,
  port: number,
  version: string,
  app = 'WEB',
  leaseSeconds = 90,
  options: RegisterOptions = {},
): Promise<void> {
  return send(`${base}/apps/${app}`, 'POST', {
    instance: {
      instanceId: id,
      hostName: '192.0.2.1',
      app,
      leaseInfo: { renewalIntervalInSecs: 30, durationInSecs: leaseSeconds },
      ipAddr: options.ipAddr ?? '192.0.2.1',
      status: 'UP',
      port: { $: port, '@enabled': 'true' },
      securePort: { $: 443, '@enabled': 'false' },
      vipAddress: options.vipAddress ?? `${app.toLowerCase()}.eureka`,
      dataCenterInfo: {
        '@class': 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo',
        name: 'MyOwn',
      },
      metadata: {
        version,
        protocol: 'http',
        service_port: '8080',
        zone: `zone-${version}`,
        ...options.metadata,
      },
    },
  });
}

/** `GET /apps` as the adapter asks for it (the same cache key on the server). */
export async function readApps(base: string): Promise<string> {
  const response = await fetch(`${base}/apps`, { headers: { accept: 'application/json' } });
  assert.equal(response.status, 200);
  return response.text();
}

/** What a {@link forwarder} may do besides forwarding. */
export interface ForwarderHooks {
  /** Called with the path of each request as it comes. */
  readonly request?: (path: string) => void;
  /** May change an answer's body: returns the new body, or undefined to keep it. */
  readonly rewrite?: (path: string, body: string) => string | undefined;
  /** Called with the path of each rewritten answer once all of it was written. */
  readonly rewritten?: (path: string) => void;
}

/**
 * A loopback HTTP forwarder standing for a load balancer in front of Eureka peers: `target` can be changed;
 * `forwarded` counts the requests by target, `paths` by path (`/apps`, `/apps/delta`).
 */
export async function forwarder(
  first: string,
  hooks: ForwarderHooks = {},
): Promise<{
  url: string;
  target: string;
  readonly forwarded: Map<string, number>;
  readonly paths: Map<string, number>;
  close(): Promise<void>;
}> {
  const state = { target: first, forwarded: new Map<string, number>(), paths: new Map<string, number>() };
  const server = createServer((request, response) => {
    const target = state.target;
    state.forwarded.set(target, (state.forwarded.get(target) ?? 0) + 1);
    const path = (request.url ?? '/').replace(/^\/eureka/, '');
    state.paths.set(path, (state.paths.get(path) ?? 0) + 1);
    hooks.request?.(path);
    fetch(`${target}${path}`, { method: request.method ?? 'GET', headers: { accept: 'application/json' } })
      .then(async (upstream) => {
        const text = await upstream.text();
        const body = hooks.rewrite?.(path, text) ?? text;
        response.writeHead(upstream.status, { 'content-type': 'application/json' });
        response.end(body, () => {
          if (body !== text) hooks.rewritten?.(path);
        });
      })
      .catch(() => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/eureka`,
    get target() {
      return state.target;
    },
    set target(value: string) {
      state.target = value;
    },
    forwarded: state.forwarded,
    paths: state.paths,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
