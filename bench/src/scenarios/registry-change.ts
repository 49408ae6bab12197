/**
 * Scenario 9, registry change (issue 11): the time from one change in a service registry holding 1,000 services to
 * every client's ACK of the new ClusterLoadAssignment, for a real etcd and a real kube-apiserver (started from the
 * cached binaries of `scripts/registries`). The registry feeds `@xds/registry`'s aggregate, whose model is published
 * into a `SnapshotCache` served by an in-process `XdsServer` (as `xds-server --registry` does), to SotW ADS clients
 * that subscribe to every Cluster and every ClusterLoadAssignment. Ours only: go-control-plane has no registries.
 * With `--quick`: etcd only, 20 clients, 3 changes.
 */
import { CoreV1Api, DiscoveryV1Api, KubeConfig, type V1EndpointSlice } from '@kubernetes/client-node';
import { TypeUrl } from '@xds/api';
import { SnapshotCache } from '@xds/cache';
import { nodeKeyByFlavour, publishModel } from '@xds/generator';
import {
  AggregateRegistry,
  EtcdRegistry,
  KubernetesRegistry,
  type Registry,
  serviceModelOf,
} from '@xds/registry';
import { type AckEvent, XdsServer } from '@xds/server';
import { XdsTestClient } from '@xds/testing';
import { Etcd3 } from 'etcd3';
import { startKubeApiserver } from '../../../scripts/registries/kube-apiserver.mjs';
import { startEtcd } from '../../../scripts/registries/servers.mjs';
import { nowMs } from '../clock.js';
import { MetricSet, type ScenarioResult } from '../report.js';
import type { BenchContext } from './context.js';

const services = 1000;
const name = (i: number) => `svc-${String(i).padStart(4, '0')}`;
const assignment = (i: number) => `outbound|8080||${name(i)}.default.svc.cluster.local`;

/** A registry filled with {@link services} services of one endpoint, and how to change one service's endpoint. */
interface Filled {
  readonly registry: Registry;
  /** Moves service `i`'s endpoint to `address`. */
  change(i: number, address: string): Promise<void>;
  stop(): Promise<void>;
}

async function etcdRegistry(): Promise<Filled> {
  const etcd = await startEtcd();
  const client = new Etcd3({ hosts: etcd.url });
  const doc = (i: number, address: string) =>
    JSON.stringify({
      name: name(i),
      ports: [{ name: 'http', port: 8080 }],
      endpoints: [{ address, port: 9000 }],
    });
  for (let i = 0; i < services; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, services - i) }, (_, k) =>
        client.put(`/bench/services/default/${name(i + k)}`).value(doc(i + k, '192.0.2.1')),
      ),
    );
  }
  return {
    registry: new EtcdRegistry(`${etcd.url}/bench`),
    change: async (i, address) => {
      await client.put(`/bench/services/default/${name(i)}`).value(doc(i, address));
    },
    stop: async () => {
      client.close();
      await etcd.stop();
    },
  };
}

async function kubernetesRegistry(): Promise<Filled> {
  const kube = await startKubeApiserver();
  try {
    const config = new KubeConfig();
    config.loadFromFile(kube.kubeconfig);
    const core = config.makeApiClient(CoreV1Api);
    const discovery = config.makeApiClient(DiscoveryV1Api);
    // kube-apiserver refuses loopback endpoint addresses: 192.0.2.x, data only
    const slice = (i: number, address: string): V1EndpointSlice => ({
      metadata: {
        name: `${name(i)}-1`,
        namespace: 'default',
        labels: { 'kubernetes.io/service-name': name(i) },
      },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 9000 }],
      endpoints: [{ addresses: [address], conditions: { ready: true } }],
    });
    for (let i = 0; i < services; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, services - i) }, async (_, k) => {
          await core.createNamespacedService({
            namespace: 'default',
            body: {
              metadata: { name: name(i + k) },
              spec: { ports: [{ name: 'http', port: 8080, targetPort: 9000 }] },
            },
          });
          await discovery.createNamespacedEndpointSlice({
            namespace: 'default',
            body: slice(i + k, '192.0.2.1'),
          });
        }),
      );
    }
    return {
      registry: new KubernetesRegistry(kube.kubeconfig),
      change: async (i, address) => {
        const current = await discovery.readNamespacedEndpointSlice({
          name: `${name(i)}-1`,
          namespace: 'default',
        });
        await discovery.replaceNamespacedEndpointSlice({
          name: `${name(i)}-1`,
          namespace: 'default',
          body: { ...current, endpoints: slice(i, address).endpoints },
        });
      },
      stop: () => kube.stop(),
    };
  } catch (error) {
    await kube.stop();
    throw error;
  }
}

/** Resolves when `check` is true, checked now and after every event `subscribe` delivers; rejects after `ms`. */
function when(
  subscribe: (listener: () => void) => () => void,
  check: () => boolean,
  what: string,
  ms: number,
) {
  return new Promise<void>((resolve, reject) => {
    let off = () => {};
    const timer = setTimeout(() => {
      off();
      reject(new Error(`${what}: not within ${ms} ms`));
    }, ms);
    const test = () => {
      if (!check()) return;
      clearTimeout(timer);
      off();
      resolve();
    };
    off = subscribe(test);
    test();
  });
}

interface Figures {
  readonly fillSeconds: number;
  readonly syncMs: number;
  /** Per change: to the new snapshot, to the median client's ACK and to the last client's ACK. */
  readonly changes: readonly { snapshotMs: number; medianAckMs: number; lastAckMs: number }[];
}

/** Fills a registry, serves it to `clients` clients, and times `rounds` changes. */
async function measure(fill: () => Promise<Filled>, clients: number, rounds: number, limitMs: number) {
  const t0 = nowMs();
  const filled = await fill();
  const fillSeconds = (nowMs() - t0) / 1000;
  const cache = new SnapshotCache({ nodeKey: nodeKeyByFlavour });
  const xds = new XdsServer({ cache, closeGraceMs: 500 });
  const aggregate = new AggregateRegistry([filled.registry]);
  let publishedAt = 0;
  let published = false;
  const publish = () => {
    if (!aggregate.synced()) return;
    published = true;
    const result = publishModel(cache, serviceModelOf(aggregate.services()), { flavours: ['envoy'] });
    if (result.envoy !== undefined && result.envoy.snapshot !== result.envoy.previous) publishedAt = nowMs();
  };
  // as xds-server does: a content change publishes; a status event only the first time the registry has synced
  aggregate.on('change', publish);
  aggregate.on('status', () => {
    if (!published) publish();
  });
  const acked = new Map<string, { version: string; at: number }>();
  const onAck = (event: AckEvent) => {
    if (event.typeUrl === TypeUrl.Endpoint) acked.set(event.nodeId, { version: event.version, at: nowMs() });
  };
  xds.on('ack', onAck);
  const ackEvents = (listener: () => void) => {
    xds.on('ack', listener);
    return () => xds.off('ack', listener);
  };
  const registryEvents = (listener: () => void) => aggregate.on('change', listener);
  const port = await xds.listen('127.0.0.1:0');
  const connected: XdsTestClient[] = [];
  try {
    const started = nowMs();
    aggregate.start();
    await when(registryEvents, () => aggregate.services().length >= services, 'first sync', limitMs);
    const syncMs = nowMs() - started;
    const edsVersion = () => cache.getSnapshot('envoy')?.version(TypeUrl.Endpoint) ?? '';
    const allAcked = (version: string) => () =>
      acked.size === clients && [...acked.values()].every((a) => a.version === version);
    for (let i = 0; i < clients; i++) {
      const client = new XdsTestClient({
        address: `127.0.0.1:${port}`,
        node: `sidecar-${i}`,
        timeoutMs: limitMs,
      });
      client.subscribe(TypeUrl.Cluster, []);
      client.subscribe(
        TypeUrl.Endpoint,
        Array.from({ length: services }, (_, k) => assignment(k)),
      );
      connected.push(client);
    }
    await when(ackEvents, allAcked(edsVersion()), `${clients} clients ACK the first push`, limitMs);
    const changes: { snapshotMs: number; medianAckMs: number; lastAckMs: number }[] = [];
    for (let round = 0; round < rounds; round++) {
      const before = edsVersion();
      const changedAt = nowMs();
      await filled.change(round % services, `192.0.2.${10 + round}`);
      await when(registryEvents, () => edsVersion() !== before, 'the new snapshot', limitMs);
      await when(ackEvents, allAcked(edsVersion()), `${clients} clients ACK the change`, limitMs);
      const acks = [...acked.values()].map((a) => a.at - changedAt).sort((a, b) => a - b);
      changes.push({
        snapshotMs: publishedAt - changedAt,
        medianAckMs: acks[Math.floor(acks.length / 2)] ?? Number.NaN,
        lastAckMs: acks.at(-1) ?? Number.NaN,
      });
    }
    return { fillSeconds, syncMs, changes } satisfies Figures;
  } finally {
    await Promise.all(connected.map((c) => c.close()));
    xds.off('ack', onAck);
    await xds.close();
    await aggregate.stop();
    cache.close();
    await filled.stop();
  }
}

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

export async function registryChange(ctx: BenchContext): Promise<ScenarioResult> {
  const clients = ctx.quick ? 20 : 50;
  const rounds = ctx.quick ? 3 : 5;
  const kinds = ctx.quick ? (['etcd'] as const) : (['etcd', 'kubernetes'] as const);
  const metrics = new MetricSet();
  const raw: Record<string, unknown> = {};
  const notes: string[] = [];
  if (!ctx.peers.includes('ours')) notes.push('skipped: our server is not measured in this run (--no-ours)');
  else {
    for (const kind of kinds) {
      ctx.progress(`9 registry change: ${kind}, ${services} services, ${clients} clients`);
      try {
        const figures = await measure(
          kind === 'etcd' ? etcdRegistry : kubernetesRegistry,
          clients,
          rounds,
          ctx.quick ? 60_000 : 300_000,
        );
        raw[kind] = figures;
        const last = figures.changes.map((c) => c.lastAckMs);
        metrics.set(
          'ours',
          `${kind}: change → every client's ACK, median of ${rounds}`,
          'ms',
          median(last),
          true,
        );
        metrics.set(
          'ours',
          `${kind}: change → every client's ACK, worst of ${rounds}`,
          'ms',
          Math.max(...last),
        );
        metrics.set(
          'ours',
          `${kind}: change → median client's ACK`,
          'ms',
          median(figures.changes.map((c) => c.medianAckMs)),
        );
        metrics.set(
          'ours',
          `${kind}: change → new snapshot`,
          'ms',
          median(figures.changes.map((c) => c.snapshotMs)),
        );
        metrics.set('ours', `${kind}: first sync of ${services} services`, 'ms', figures.syncMs);
        metrics.set('ours', `${kind}: writing ${services} services into it`, 's', figures.fillSeconds);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        notes.push(`${kind} failed: ${message}`);
        ctx.progress(`${kind} failed: ${message}`);
      }
    }
  }
  return {
    id: '9',
    title: 'registry change',
    params: { services, clients, rounds, registries: kinds },
    metrics: metrics.list(),
    raw,
    notes: [
      ...notes,
      'one endpoint of one service changes in the registry; times from the write to the registry to the server ' +
        'receiving the ACK of the new EDS version from the last (and median) of the SotW clients',
    ],
  };
}
