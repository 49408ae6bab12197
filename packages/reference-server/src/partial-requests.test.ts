// Rule L2 for request messages partly received in `xds-server`: `--limit maxPartialRequestBytesTotal=N` reaches the
// xDS server, and its account and refusals show in /metrics, /debug/syncz and the status page.
import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { describe, it } from 'node:test';
import { parseCommandLine } from './cli.js';
import { createLogger } from './logger.js';
import { startReferenceServer } from './reference-server.js';
import { get, getJson, memoryLog, poll } from './test-support.js';

const mib = 1024 * 1024;

describe('xds-server request messages partly received', { timeout: 180_000 }, () => {
  it('L2: --limit maxPartialRequestBytesTotal holds; the bytes held and the refusals show in /metrics, /debug/syncz and the status page', async () => {
    const parsed = parseCommandLine(['--limit', `maxPartialRequestBytesTotal=${4 * mib}`]);
    assert.equal(parsed.kind, 'run');
    if (parsed.kind !== 'run') return;
    const server = await startReferenceServer({
      xds: '127.0.0.1:0',
      admin: '127.0.0.1:0',
      logger: createLogger('info', memoryLog().stream),
      closeGraceMs: 1000,
      limits: parsed.options.limits,
    });
    const session = connect(`http://${server.xdsAddress}`);
    session.on('error', () => {});
    /**
     * A stream whose message announces `bytes` and sends all but one of them (a message reserves what it received
     * plus a look-ahead, here its whole length); resolves with its grpc-status.
     */
    const hold = (bytes: number): Promise<number> => {
      const stream = session.request({
        ':method': 'POST',
        ':path': '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      stream.on('error', () => {});
      const header = Buffer.alloc(5);
      header.writeUInt32BE(bytes, 1);
      stream.write(Buffer.concat([header, Buffer.alloc(bytes - 1)]));
      return new Promise((resolve) => {
        const statusOf = (headers: Record<string, unknown>) => {
          if (headers['grpc-status'] !== undefined) resolve(Number(headers['grpc-status']));
        };
        stream.on('response', statusOf);
        stream.on('trailers', statusOf);
      });
    };
    try {
      void hold(2 * mib);
      await poll(
        'the first message held',
        async () => {
          const syncz = await getJson<{ server: { partialRequests: { reservedBytes: number } } }>(
            server.adminAddress,
            '/debug/syncz',
          );
          return syncz.server.partialRequests.reservedBytes === 2 * mib ? true : undefined;
        },
        60_000,
      );
      assert.equal(await hold(2 * mib), 8, 'RESOURCE_EXHAUSTED');
      const metrics = (await get(server.adminAddress, '/metrics')).body;
      assert.match(metrics, new RegExp(`^xds_server_partial_request_bytes ${2 * mib}$`, 'm'));
      assert.match(metrics, new RegExp(`^xds_server_partial_request_budget_bytes ${4 * mib}$`, 'm'));
      assert.match(
        metrics,
        /^xds_server_streams_ended_by_limit_total\{limit="maxPartialRequestBytesTotal"\} 1$/m,
      );
      const syncz = await getJson<{ server: { partialRequests: Record<string, unknown> } }>(
        server.adminAddress,
        '/debug/syncz',
      );
      // The refused message held part of its bytes before it could grow no more: the peak is between.
      const peak = syncz.server.partialRequests.peakBytes as number;
      assert.ok(peak >= 2 * mib && peak <= 3 * mib, `peak ${peak}`);
      assert.deepEqual(
        { ...syncz.server.partialRequests, peakBytes: 0 },
        {
          limitBytes: 4 * mib,
          perConnectionLimitBytes: 32 * mib,
          timeoutMs: 30_000,
          reservedBytes: 2 * mib,
          messages: 1,
          connections: 1,
          peakBytes: 0,
          refused: {
            maxPartialRequestBytesTotal: 1,
            maxPartialRequestBytesPerConnection: 0,
            partialRequestTimeoutMs: 0,
          },
        },
      );
      const page = (await get(server.adminAddress, '/')).body;
      assert.match(
        page,
        /<span id="partial-requests">unfinished requests 2\.0 of 4\.0 MiB · 1 refused<\/span>/,
      );
    } finally {
      session.destroy();
      await server.close();
    }
  });
});
