// The fuzzer's two deadlines, against a real XdsServer: a call the server ends after the late deadline is late
// (counted), not a hang; only a call still open at the hang deadline fails. Before the split, one 20 s deadline
// called slow answers on a starved machine "hangs" (the intermittent "half-closed stream gets no status under
// concurrent load" of an earlier session: given 120 s, every such call ended with its status). Rule L2: the server
// ends a stream that sends no first request at limits.firstRequestTimeoutMs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SnapshotCache } from '@xds/cache';
import { XdsServer } from '@xds/server';
import type { FuzzCase } from './case.js';
import { Connections, runCase } from './run-case.js';

const ads = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';

/** A stream that sends headers and nothing else, half-closed at once: the server must end it with a status. */
const headerOnly: FuzzCase = {
  kind: 'header-only',
  transport: 'h2',
  ownSession: {},
  streams: [{ path: ads, chunks: [], end: 'leave', expect: 'status' }],
};

async function withServer(
  firstRequestTimeoutMs: number,
  body: (c: Connections) => Promise<void>,
): Promise<void> {
  const cache = new SnapshotCache();
  const server = new XdsServer({ cache, closeGraceMs: 200, limits: { firstRequestTimeoutMs } });
  const port = await server.listen('127.0.0.1:0');
  const connections = new Connections(port, 0, 1);
  try {
    await body(connections);
  } finally {
    connections.close();
    await server.close();
    cache.close();
  }
}

describe('fuzz deadlines', () => {
  it('L2: a status that comes after the late deadline makes the call late, not a hang', async () => {
    await withServer(600, async (connections) => {
      const result = await runCase(headerOnly, connections, { lateMs: 50, hangMs: 60_000 });
      assert.equal(result.failure, undefined);
      assert.equal(result.calls.length, 1);
      assert.equal(result.calls[0]?.status, 4, 'DEADLINE_EXCEEDED from limits.firstRequestTimeoutMs');
      assert.equal(result.calls[0]?.late, true);
    });
  });

  it('L2: a call still open at the hang deadline is a hang', async () => {
    await withServer(60_000, async (connections) => {
      const result = await runCase(headerOnly, connections, { lateMs: 100, hangMs: 300 });
      assert.match(result.failure ?? '', /^hang: .* did not end within 300 ms/);
    });
  });
});
