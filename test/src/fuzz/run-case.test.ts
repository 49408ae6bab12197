// The fuzzer's two deadlines, against a real XdsServer: a call the server ends after the late deadline is late
// (counted), not a hang; only a call still open at the hang deadline fails. Before the split, one 20 s deadline
// called slow answers on a starved machine "hangs" (the intermittent "half-closed stream gets no status under
// concurrent load" of an earlier session: given 120 s, every such call ended with its status). Rule L2: the server
// ends a stream that sends no first request at limits.firstRequestTimeoutMs. And when a connection is dropped
// under a call (finding 6 of docs/fuzzing.md: the server's keepalive closing a connection whose starved peer did
// not answer its ping), the failure names which side ended it: the server's GOAWAY, or none.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SnapshotCache } from '@xds/cache';
import { XdsServer, type XdsServerOptions } from '@xds/server';
import type { FuzzCase } from './case.js';
import { Connections, runCase } from './run-case.js';
import { encodeFields, grpcFrame, msg, str } from './wire.js';

const ads = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';

/** A stream that sends headers and nothing else, half-closed at once: the server must end it with a status. */
const headerOnly: FuzzCase = {
  kind: 'header-only',
  transport: 'h2',
  ownSession: {},
  streams: [{ path: ads, chunks: [], end: 'leave', expect: 'status' }],
};

/**
 * A SotW stream that subscribes to clusters of an empty cache and is never half-closed: the server keeps it open
 * (it waits for a snapshot), and the call must still end with a status.
 */
const waiting: FuzzCase = {
  kind: 'sotw',
  transport: 'h2',
  ownSession: {},
  streams: [
    {
      path: ads,
      chunks: [
        grpcFrame(
          encodeFields([
            msg(2, [str(1, 'node-1')]),
            str(4, 'type.googleapis.com/envoy.config.cluster.v3.Cluster'),
          ]),
        ),
      ],
      end: 'leave',
      expect: 'status',
    },
  ],
};

async function withServer(
  firstRequestTimeoutMs: number,
  body: (c: Connections) => Promise<void>,
  grpcOptions: XdsServerOptions['grpcOptions'] = {},
): Promise<void> {
  const cache = new SnapshotCache();
  const server = new XdsServer({ cache, closeGraceMs: 200, limits: { firstRequestTimeoutMs }, grpcOptions });
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

  it("L4: a connection the server drops under a call is a failure that names the server's GOAWAY", async () => {
    // grpc-js's connection age policy sends GOAWAY(NO_ERROR), then destroys the session after the grace time,
    // as its keepalive does to a peer that does not answer a ping: the call ends with no status.
    const age = { 'grpc.max_connection_age_ms': 300, 'grpc.max_connection_age_grace_ms': 300 };
    await withServer(
      60_000,
      async (connections) => {
        const result = await runCase(waiting, connections, { lateMs: 60_000, hangMs: 120_000 });
        assert.match(
          result.failure ?? '',
          /^no gRPC status: \S+StreamAggregatedResources \(stream 1\) ended by its session closed \(the server sent GOAWAY 0 \(last stream \d+\) \d+ ms after the call started, .*the client having queued its 1 chunk\(s\)$/,
        );
      },
      age,
    );
  });
});
