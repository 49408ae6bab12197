// Starts and stops the real service registries for tests and benchmarks: each on 127.0.0.1 with free ports, in a
// fresh temporary data directory, ready (polled with a deadline) before start resolves; stopped by PID, never by
// name. The executables come from the provisioning scripts next to this file (cached by version). kube-apiserver
// (on its own etcd) is started by kube-apiserver.mjs.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { holdPort } from './held-port.mjs';

const here = dirname(fileURLToPath(import.meta.url));

/** The registries this helper can provision and start. */
export const registryKinds = ['etcd', 'consul', 'kube-apiserver', 'eureka'];

const provisioned = new Map();

/**
 * Installs or builds a registry if it is not cached yet (slow the first time, instant after) and returns the path
 * of its executable (the jar for eureka).
 * @param {string} kind one of {@link registryKinds}
 * @returns {string}
 */
export function provision(kind) {
  const known = provisioned.get(kind);
  if (known !== undefined) return known;
  const result = spawnSync('bash', [join(here, `${kind}.sh`)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`provisioning ${kind} failed (exit ${result.status})`);
  const path = result.stdout.trim().split('\n').pop();
  if (!path) throw new Error(`provisioning ${kind} printed no path`);
  provisioned.set(kind, path);
  return path;
}

/** Ports this process has handed out: a port is not handed out twice, even after its server stopped. */
const handedOut = new Set();

function kernelPort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * A free TCP port on 127.0.0.1 (the kernel's choice; closed again before it is returned), never one this process
 * handed out before. Another process may still bind it before the server does: start servers through
 * {@link retryOnPortClash}.
 * @returns {Promise<number>}
 */
export async function freePort() {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await kernelPort();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free port: the kernel gave 50 ports this process had already used');
}

/** How a server that lost its port to another process fails (etcd, Consul, kube-apiserver and the JVM). */
const portClash = /address already in use/i;

/**
 * Runs `start` (which picks its ports with {@link freePort}) again, up to `attempts` times in all, while it fails
 * because another process bound one of its ports between the pick and the server's bind (tests run in parallel
 * processes, so this happens). Any other failure, and a clash on one of the `fixed` ports (given by the caller, so
 * the same on every attempt), is thrown at once.
 * @template T
 * @param {() => Promise<T>} start
 * @param {readonly number[]} [fixed]
 * @param {number} [attempts]
 * @returns {Promise<T>}
 */
export async function retryOnPortClash(start, fixed = [], attempts = 4) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      const message = String(error?.message ?? error);
      const onFixed = fixed.some((port) => new RegExp(`:${port}\\b`).test(message));
      if (attempt >= attempts || !portClash.test(message) || onFixed) throw error;
    }
  }
}

/**
 * Polls `check` until it returns true, the process exits, or the deadline passes.
 * @param {() => Promise<boolean>} check
 * @param {import('node:child_process').ChildProcess} child
 * @param {string} what
 * @param {string} log
 * @param {number} timeoutMs
 */
export async function waitReady(check, child, what, log, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${what} exited before it was ready:\n${tail(log)}`);
    }
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} was not ready after ${timeoutMs} ms:\n${tail(log)}`);
}

function tail(log) {
  try {
    return readFileSync(log, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '';
  }
}

/** @param {string} url @param {RequestInit} [init] */
async function ok(url, init) {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(2000) });
  const text = await response.text();
  return response.ok ? text : undefined;
}

/**
 * Stops a process by PID: SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited.
 * @param {import('node:child_process').ChildProcess} child
 * @param {number} [graceMs]
 */
export async function stopChild(child, graceMs = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * @typedef {object} RunningServer
 * @property {string} kind
 * @property {number} pid
 * @property {string} url where clients connect (`http://127.0.0.1:PORT`; for eureka `…/eureka`)
 * @property {string} dir the temporary directory (data, logs)
 * @property {() => Promise<void>} stop stops the process and removes `dir`
 * @property {() => Promise<void>} [pause] SIGSTOP, so clients see a server that stops answering
 * @property {() => Promise<void>} [resume] SIGCONT
 */

/**
 * Spawns a server with its output in `dir/<name>.log`.
 * @param {string} command @param {string[]} args @param {string} dir @param {string} name
 * @param {NodeJS.ProcessEnv} [env]
 */
export function launch(command, args, dir, name, env) {
  const log = join(dir, `${name}.log`);
  const fd = openSync(log, 'a');
  const child = spawn(command, args, { stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
  child.on('error', () => {});
  // a test process that ends without stopping its servers (a failed hook, --test-force-exit) takes them along
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.off('exit', reap));
  return { child, log };
}

function signals(child) {
  return {
    pause: async () => {
      child.kill('SIGSTOP');
    },
    resume: async () => {
      child.kill('SIGCONT');
    },
  };
}

/**
 * Starts etcd on free ports (or the ports given); ready when `/health` answers. With `dir` given, its data is kept
 * there (and not removed by `stop`), so it can be started again on it. A port given back by a stopped server may be
 * taken by any process before it is bound again: a test that needs one address across restarts puts a port it holds
 * (held-port.mjs) in front and starts each etcd on fresh ports.
 * @param {{ dir?: string, clientPort?: number, peerPort?: number, timeoutMs?: number }} [options]
 * @returns {Promise<RunningServer>}
 */
export async function startEtcd(options = {}) {
  // a port the caller gave is not changed by a retry: a clash on it is the caller's to see
  if (options.peerPort !== undefined) return startEtcdOnce(options);
  const fixed = options.clientPort === undefined ? [] : [options.clientPort];
  return retryOnPortClash(() => startEtcdOnce(options), fixed);
}

/** @param {{ dir?: string, clientPort?: number, peerPort?: number, timeoutMs?: number }} options */
async function startEtcdOnce(options) {
  const bin = provision('etcd');
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'xds-etcd-'));
  const client = options.clientPort ?? (await freePort());
  const peer = options.peerPort ?? (await freePort());
  const url = `http://127.0.0.1:${client}`;
  const peerUrl = `http://127.0.0.1:${peer}`;
  const { child, log } = launch(
    bin,
    [
      '--name=xds',
      `--data-dir=${join(dir, 'data')}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=xds=${peerUrl}`,
      '--initial-cluster-state=new',
    ],
    dir,
    'etcd',
  );
  const stop = async () => {
    await stopChild(child);
    if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(
      async () => (await ok(`${url}/health`))?.includes('true') ?? false,
      child,
      'etcd',
      log,
      options.timeoutMs ?? 120_000,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    kind: 'etcd',
    pid: child.pid ?? 0,
    url,
    dir,
    clientPort: client,
    peerPort: peer,
    stop,
    ...signals(child),
  };
}

/**
 * Starts a Consul agent (server + client) on free ports; ready when it has a leader. By default a dev agent (in
 * memory); `persistent` runs a one-node server with its data in `dir`, which `restart` stops and starts again on the
 * same data (what a registry restart looks like to its clients). A persistent agent is reached through a port this
 * process holds (held-port.mjs): every start picks fresh ports behind it, so a restart never races another process
 * for a port it gave back, and `url` stays the same.
 * @param {{ timeoutMs?: number, persistent?: boolean }} [options]
 * @returns {Promise<RunningServer & { restart: () => Promise<void> }>}
 */
export async function startConsul(options = {}) {
  const bin = provision('consul');
  const dir = mkdtempSync(join(tmpdir(), 'xds-consul-'));
  const mode = options.persistent
    ? ['-server', '-bootstrap-expect=1', `-data-dir=${join(dir, 'data')}`]
    : ['-dev'];
  /** @type {import('node:child_process').ChildProcess | undefined} */
  let child;
  /** @returns {Promise<number>} the HTTP port, once the agent has a leader */
  const startOnce = async () => {
    const [http, dns, grpc, serfLan, serfWan, server] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const args = [
      'agent',
      ...mode,
      '-bind=127.0.0.1',
      '-client=127.0.0.1',
      '-advertise=127.0.0.1',
      `-http-port=${http}`,
      `-dns-port=${dns}`,
      `-grpc-port=${grpc}`,
      `-serf-lan-port=${serfLan}`,
      `-serf-wan-port=${serfWan}`,
      `-server-port=${server}`,
      '-log-level=warn',
    ];
    const launched = launch(bin, args, dir, 'consul');
    child = launched.child;
    try {
      await waitReady(
        async () => ((await ok(`http://127.0.0.1:${http}/v1/status/leader`)) ?? '').includes(':'),
        launched.child,
        'consul',
        launched.log,
        options.timeoutMs ?? 120_000,
      );
    } catch (error) {
      await stopChild(launched.child);
      throw error;
    }
    return http;
  };
  const front = options.persistent ? await holdPort() : undefined;
  let http;
  try {
    http = await retryOnPortClash(startOnce);
  } catch (error) {
    await front?.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  front?.forwardTo(http);
  const stop = async () => {
    front?.forwardTo(undefined);
    if (child !== undefined) await stopChild(child);
    await front?.close();
    rmSync(dir, { recursive: true, force: true });
  };
  const restart = async () => {
    if (front === undefined) throw new Error('only a persistent Consul agent can restart');
    // nothing reaches the old agent while it stops, and nothing reaches the new one before it is ready
    front.forwardTo(undefined);
    if (child !== undefined) await stopChild(child);
    front.forwardTo(await retryOnPortClash(startOnce));
  };
  return {
    kind: 'consul',
    get pid() {
      return child?.pid ?? 0;
    },
    url: front?.url ?? `http://127.0.0.1:${http}`,
    dir,
    stop,
    restart,
    pause: async () => {
      child?.kill('SIGSTOP');
    },
    resume: async () => {
      child?.kill('SIGCONT');
    },
  };
}

/**
 * The Eureka server properties that make it a standalone server answering what it holds. Without them, after a
 * deletion `/eureka/apps` can list the instance again, for a moment or for minutes:
 * - `eureka.instance.hostname=127.0.0.1`: its service URL (`http://127.0.0.1:PORT/eureka/`) is then its own, so it
 *   has no peers. Under the machine's host name it took that URL for a peer and replicated every registration,
 *   status change and deletion to itself, in batches, later: a deleted instance came back (`replication=true` in
 *   its log), and after a SIGSTOP, whose replication requests failed and were retried, for good.
 * - its response caches off: the read-only copy refreshed every 30 s (`use-read-only-response-cache`, also off in
 *   the jar's application.properties) and the read-write Guava cache whose entries live 180 s
 *   (`response-cache-auto-expiration-in-seconds`). A change invalidates the read-write entries, but Guava ignores an
 *   invalidation that races a load in progress (google/guava#1881), so a `GET /apps` running while an instance is
 *   deleted keeps the pre-delete answer for 180 s. An expiry of 0 keeps no entry: every request reads the registry.
 */
export const eurekaFreshProperties = Object.freeze({
  'eureka.instance.hostname': '127.0.0.1',
  'eureka.server.use-read-only-response-cache': 'false',
  'eureka.server.response-cache-auto-expiration-in-seconds': '0',
});

/**
 * Starts the Eureka server on a free port; ready when `/eureka/apps` answers (7 s on an idle machine, minutes on a
 * busy one: it is a JVM starting Spring). Its caches are off ({@link eurekaFreshProperties}) unless `properties`
 * (Spring properties, passed as `--name=value`) say otherwise: a test of the adapter against Eureka's default caches
 * passes their defaults here.
 * @param {{ timeoutMs?: number, properties?: Readonly<Record<string, string>> }} [options]
 * @returns {Promise<RunningServer>}
 */
export async function startEureka(options = {}) {
  return retryOnPortClash(() => startEurekaOnce(options));
}

/** @param {{ timeoutMs?: number, properties?: Readonly<Record<string, string>> }} options */
async function startEurekaOnce(options) {
  const properties = { ...eurekaFreshProperties, ...options.properties };
  const jar = provision('eureka');
  const dir = mkdtempSync(join(tmpdir(), 'xds-eureka-'));
  const port = await freePort();
  const { child, log } = launch(
    'java',
    [
      '-Xmx256m',
      '-XX:TieredStopAtLevel=1',
      '-Xshare:auto',
      '-jar',
      jar,
      ...Object.entries(properties).map(([name, value]) => `--${name}=${value}`),
    ],
    dir,
    'eureka',
    { PORT: String(port) },
  );
  const url = `http://127.0.0.1:${port}/eureka`;
  const stop = async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(
      // XML: a JSON `/apps` here would fill the response cache's JSON entry before a test registers anything
      async () => (await ok(`${url}/apps`, { headers: { accept: 'application/xml' } })) !== undefined,
      child,
      'eureka',
      log,
      options.timeoutMs ?? 600_000,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { kind: 'eureka', pid: child.pid ?? 0, url, dir, stop, ...signals(child) };
}
