// The stream gauges of /metrics against a real XdsServer: pending (header-only) streams and streams ended by a limit.
import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { Snapshot, SnapshotCache } from '@xds/cache';
import { XdsServer } from '@xds/server';
import { XdsTestClient } from '@xds/testing';
import { pino } from 'pino';
import { createMetrics } from './metrics.js';
import { watchServerEvents } from './server-events.js';

function sample(metrics: string, name: string): number | undefined {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

async function poll(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** An XdsServer on 127.0.0.1 with the stream metrics of /metrics over it. */
async function serverWithMetrics(options: { limits?: Record<string, number> } = {}) {
  const cache = new SnapshotCache();
  const xds = new XdsServer({ cache, closeGraceMs: 200, ...options });
  const metrics = createMetrics({
    connectedClients: () => xds.clients().length,
    configErrors: () => 0,
    writeBudget: () => xds.writeBudget(),
    streams: () => xds.streamStats(),
  });
  const port = await xds.listen('127.0.0.1:0');
  const close = async () => {
    await xds.close();
    cache.close();
  };
  return { xds, metrics, address: `127.0.0.1:${port}`, close };
}

describe('stream metrics', () => {
  it('L2: xds_server_pending_streams counts header-only streams; xds_server_streams_ended_by_limit_total counts their end', async () => {
    const cache = new SnapshotCache();
    // One server keeps header-only streams pending (a long limit), the other ends them (a short one).
    const keeps = new XdsServer({ cache, closeGraceMs: 200, limits: { firstRequestTimeoutMs: 60_000 } });
    const ends = new XdsServer({ cache, closeGraceMs: 200, limits: { firstRequestTimeoutMs: 200 } });
    const sessions = [];
    const gauges = [];
    try {
      for (const xds of [keeps, ends]) {
        const port = await xds.listen('127.0.0.1:0');
        const session = connect(`http://127.0.0.1:${port}`);
        session.on('error', () => {});
        sessions.push(session);
        for (let i = 0; i < 2; i++) {
          const stream = session.request({
            ':method': 'POST',
            ':path': '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
            'content-type': 'application/grpc',
            te: 'trailers',
          });
          stream.on('error', () => {});
          stream.resume();
        }
        gauges.push(
          createMetrics({
            connectedClients: () => xds.clients().length,
            configErrors: () => 0,
            writeBudget: () => xds.writeBudget(),
            streams: () => xds.streamStats(),
          }),
        );
      }
      const [kept, ended] = gauges;
      await poll('two pending streams in /metrics', async () => {
        return sample(await kept!.registry.metrics(), 'xds_server_pending_streams') === 2;
      });
      await poll('their end by the first-request limit in /metrics', async () => {
        const text = await ended!.registry.metrics();
        return sample(text, 'xds_server_streams_ended_by_limit_total{limit="firstRequestTimeoutMs"}') === 2;
      });
      const text = await ended!.registry.metrics();
      assert.equal(sample(text, 'xds_server_pending_streams'), 0);
      assert.equal(sample(text, 'xds_server_write_unflushed_bytes'), 0);
    } finally {
      for (const session of sessions) session.destroy();
      await Promise.all([keeps.close(), ends.close()]);
      cache.close();
    }
  });

  it('S15: xds_server_unknown_type_subscriptions_total counts ADS subscriptions to types the server does not serve', async () => {
    const { metrics, address, close } = await serverWithMetrics();
    const client = new XdsTestClient({ address, node: 'metrics-s15' });
    try {
      assert.equal(
        sample(await metrics.registry.metrics(), 'xds_server_unknown_type_subscriptions_total'),
        0,
      );
      const unknown = 'type.googleapis.com/example.v1.NotServed';
      client.subscribe(unknown, ['a']);
      assert.equal((await client.next(unknown)).resources.length, 0);
      assert.equal(
        sample(await metrics.registry.metrics(), 'xds_server_unknown_type_subscriptions_total'),
        1,
      );
    } finally {
      await client.close();
      await close();
    }
  });

  it('L2: xds_server_subscription_bytes and xds_server_subscribed_names show the subscribed names against limits.maxSubscriptionBytesTotal', async () => {
    const { metrics, address, close } = await serverWithMetrics({
      limits: { maxSubscriptionBytesTotal: 1_000_000 },
    });
    const client = new XdsTestClient({ address, node: 'metrics-names', protocol: 'delta' });
    try {
      // Ten names of 10 bytes: 10 x (2 x 10 + 40).
      client.subscribe(
        TypeUrl.Endpoint,
        Array.from({ length: 10 }, (_, i) => `endpoint-${i}`),
      );
      await poll('ten subscribed names in /metrics', async () => {
        return sample(await metrics.registry.metrics(), 'xds_server_subscribed_names') === 10;
      });
      const text = await metrics.registry.metrics();
      assert.equal(sample(text, 'xds_server_subscription_bytes'), 600);
      assert.equal(sample(text, 'xds_server_subscription_budget_bytes'), 1_000_000);
    } finally {
      await client.close();
      await close();
    }
  });

  it('S15, L2: type URLs a client makes up share one `unknown` label; served types keep their short name', async () => {
    const cache = new SnapshotCache();
    const xds = new XdsServer({ cache, closeGraceMs: 200 });
    const metrics = createMetrics({
      connectedClients: () => xds.clients().length,
      configErrors: () => 0,
      writeBudget: () => xds.writeBudget(),
    });
    const unwatch = watchServerEvents(xds, metrics, pino({ level: 'silent' }));
    const port = await xds.listen('127.0.0.1:0');
    const client = new XdsTestClient({
      address: `127.0.0.1:${port}`,
      node: 'metrics-labels',
      autoAck: false,
    });
    cache.setSnapshot('metrics-labels', Snapshot.create([]));
    try {
      const made = Array.from({ length: 20 }, (_, i) => `type.googleapis.com/probe.made${i}.T`);
      for (const typeUrl of made) {
        client.subscribe(typeUrl, []);
        await client.next(typeUrl);
        client.nack(typeUrl, 'rejected by the test');
      }
      client.subscribe(TypeUrl.Cluster, []);
      await client.next(TypeUrl.Cluster);
      client.nack(TypeUrl.Cluster, 'rejected by the test');
      await poll('21 NACKs counted', async () => {
        const text = await metrics.registry.metrics();
        return (
          sample(text, 'pilot_total_xds_rejects{type="unknown"}') === 20 &&
          sample(text, 'pilot_total_xds_rejects{type="cds"}') === 1
        );
      });
      const text = await metrics.registry.metrics();
      assert.equal(sample(text, 'pilot_xds_pushes{type="unknown"}'), 20);
      assert.equal(sample(text, 'pilot_xds_pushes{type="cds"}'), 1);
      const leaked = text.split('\n').filter((line) => line.includes('probe.made'));
      assert.deepEqual(leaked, [], 'no series names a type URL the client made up');
    } finally {
      unwatch();
      await client.close();
      await xds.close();
      cache.close();
    }
  });
});
