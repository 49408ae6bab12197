// Starts kube-apiserver for tests and benchmarks, on its own etcd, both on 127.0.0.1 free ports, stopped by PID
// (kube-apiserver before its etcd: in the other order its shutdown hangs for minutes retrying etcd). The server can
// be stopped and started again on the same port and etcd (a restart, for the Kubernetes registry's resync and
// `410 Gone` tests), and more apiservers can join the same etcd (what an HA control plane runs), so that a test can
// change the cluster through one while the registry under test has lost the other. Each apiserver is reached through
// a port this process holds (held-port.mjs): every start picks a fresh port behind it, so a restart never races
// another process for a port it gave back, and its URL and kubeconfig stay the same.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { holdPort } from './held-port.mjs';
import {
  freePort,
  launch,
  provision,
  retryOnPortClash,
  startEtcd,
  stopChild,
  waitReady,
} from './servers.mjs';

/**
 * @typedef {object} RunningApiserver one kube-apiserver process
 * @property {string} url `https://127.0.0.1:PORT`
 * @property {string} kubeconfig a kubeconfig file for the admin user
 * @property {() => number} pid the current process id (it changes when the server is started again)
 * @property {() => Promise<void>} stopApiserver stops this apiserver only (its URL stays held for it)
 * @property {() => Promise<void>} startApiserver starts it again behind the same URL, on the same etcd; ready as at
 *   first
 */

/**
 * @typedef {object} RunningKube
 * @property {string} kind `kube-apiserver`
 * @property {number} pid the first apiserver's process id when it started
 * @property {string} url
 * @property {string} dir the temporary directory (etcd data, logs, certificates, kubeconfigs)
 * @property {string} kubeconfig
 * @property {string} token the admin bearer token
 * @property {string} etcdUrl `http://127.0.0.1:PORT` of its etcd (to compact it)
 * @property {() => Promise<void>} stopApiserver
 * @property {() => Promise<void>} startApiserver
 * @property {() => Promise<RunningApiserver>} addApiserver another apiserver on the same etcd (stopped by `stop`)
 * @property {() => Promise<void>} stop stops every apiserver, then etcd, and removes `dir`
 */

/**
 * Starts kube-apiserver on its own etcd (both on free ports), with a static admin token and a kubeconfig in `dir`;
 * ready when `/readyz` answers and the `default` namespace exists.
 * @param {{ timeoutMs?: number }} [options]
 * @returns {Promise<RunningKube>}
 */
export async function startKubeApiserver(options = {}) {
  const bin = provision('kube-apiserver');
  const timeoutMs = options.timeoutMs ?? 120_000;
  const dir = mkdtempSync(join(tmpdir(), 'xds-kube-'));
  const etcd = await startEtcd({ dir });
  const token = randomBytes(16).toString('hex');
  writeFileSync(join(dir, 'tokens.csv'), `${token},admin,admin,system:masters\n`);
  const key = spawnSync('openssl', ['genrsa', '-out', join(dir, 'sa.key'), '2048'], { stdio: 'ignore' });
  if (key.status !== 0) {
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
    throw new Error('openssl genrsa failed: kube-apiserver needs a service account key');
  }
  /** @type {RunningApiserver[]} */
  const apiservers = [];

  /** @type {import('./held-port.mjs').HeldPort[]} */
  const fronts = [];

  /** @param {number} index @returns {Promise<RunningApiserver>} */
  const apiserver = async (index) => {
    const front = await holdPort();
    fronts.push(front);
    const name = index === 0 ? 'kube-apiserver' : `kube-apiserver-${index}`;
    const url = `https://127.0.0.1:${front.port}`;
    const kubeconfig = join(dir, index === 0 ? 'kubeconfig' : `kubeconfig-${index}`);
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{name: test, cluster: {server: "${url}", insecure-skip-tls-verify: true}}]`,
        `users: [{name: admin, user: {token: "${token}"}}]`,
        'contexts: [{name: test, context: {cluster: test, user: admin}}]',
        'current-context: test',
        '',
      ].join('\n'),
    );
    /** @param {number} port */
    const args = (port) => [
      `--etcd-servers=${etcd.url}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${port}`,
      `--cert-dir=${join(dir, `certs-${index}`)}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=AlwaysAllow',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${join(dir, 'sa.key')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      '--service-cluster-ip-range=10.96.0.0/16',
      '--endpoint-reconciler-type=none',
      // no controller-manager creates the default service account, which Pods would need
      '--disable-admission-plugins=ServiceAccount',
    ];
    // the serving certificate is self-signed (from --cert-dir): this readiness probe alone skips its check
    /** @param {number} port @param {string} path */
    const probe = (port, path) =>
      new Promise((resolve) => {
        const req = httpsGet(
          `https://127.0.0.1:${port}${path}`,
          { rejectUnauthorized: false, headers: { authorization: `Bearer ${token}` }, timeout: 2000 },
          (res) => {
            res.resume();
            resolve(res.statusCode === 200);
          },
        );
        req.on('error', () => resolve(false));
        req.on('timeout', () => req.destroy());
      });
    /** @type {import('node:child_process').ChildProcess | undefined} */
    let child;
    const startOnce = async () => {
      const port = await freePort();
      const launched = launch(bin, args(port), dir, name);
      child = launched.child;
      try {
        await waitReady(
          async () => (await probe(port, '/readyz')) && (await probe(port, '/api/v1/namespaces/default')),
          launched.child,
          name,
          launched.log,
          timeoutMs,
        );
      } catch (error) {
        await stopChild(launched.child);
        throw error;
      }
      front.forwardTo(port);
    };
    const start = async () => {
      if (child !== undefined && child.exitCode === null && child.signalCode === null) return;
      await retryOnPortClash(startOnce);
    };
    const stop = async () => {
      // nothing reaches it while it stops (its clients see connections reset, as with a stopped server)
      front.forwardTo(undefined);
      if (child !== undefined) await stopChild(child);
    };
    await start();
    return { url, kubeconfig, pid: () => child?.pid ?? 0, stopApiserver: stop, startApiserver: start };
  };

  const stopAll = async () => {
    for (const server of apiservers.reverse()) await server.stopApiserver();
    for (const front of fronts) await front.close();
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    apiservers.push(await apiserver(0));
  } catch (error) {
    await stopAll();
    throw error;
  }
  const first = /** @type {RunningApiserver} */ (apiservers[0]);
  return {
    kind: 'kube-apiserver',
    pid: first.pid(),
    url: first.url,
    dir,
    kubeconfig: first.kubeconfig,
    token,
    etcdUrl: etcd.url,
    stopApiserver: first.stopApiserver,
    startApiserver: first.startApiserver,
    async addApiserver() {
      const next = await apiserver(apiservers.length);
      apiservers.push(next);
      return next;
    },
    stop: stopAll,
  };
}
