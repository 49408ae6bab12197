// Rule L2 for the REST listener (`listenRest`): it holds the xDS port's connection limits. Before, one address held
// 1,500 silent sockets on it, each until Node's header timeout (65–95 s), descriptors the xDS port shares (audit F21).
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { flood, patience, recordingLogger } from './test-connections.js';
import { type Harness, start } from './test-harness.js';
import { until } from './test-raw-client.js';

/** POSTs a REST discovery request for clusters from `localAddress`; resolves its HTTP status. */
function postClusters(port: number, localAddress: string): Promise<number> {
  const body = JSON.stringify({ node: { id: 'n1' }, typeUrl: TypeUrl.Cluster });
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, localAddress, method: 'POST', path: '/v3/discovery:clusters', agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('REST listener connection limits', () => {
  let h: Harness;
  let port: number;
  const logger = recordingLogger();
  before(async () => {
    h = await start({ limits: { maxConnectionsPerPeer: 4, connectionSetupTimeoutMs: 2_000 }, logger });
    port = await h.server.listenRest('127.0.0.1:0');
  });
  after(async () => {
    await h.close();
  });

  it('L2: one peer holds at most maxConnectionsPerPeer sockets; another peer is served; silent ones are closed', async () => {
    const sockets = await flood(port, 20, '127.0.0.1');
    await until(
      () => sockets.filter((s) => s.closed).length >= 16,
      '16 sockets past the per-peer limit closed',
      patience,
    );
    assert.equal(sockets.filter((s) => !s.closed).length, 4, 'the peer keeps maxConnectionsPerPeer sockets');
    assert.equal(h.server.restConnectionStats().refused.maxConnectionsPerPeer, 16);
    assert.ok(
      logger.warnings.some((w) =>
        w.message.includes('REST connection refused: limits.maxConnectionsPerPeer (4)'),
      ),
      'the refusal is logged naming the limit',
    );
    // A bystander on another address is served while the first peer is at its limit.
    assert.equal(await postClusters(port, '127.0.0.2'), 200);
    // The silent sockets send no request headers: they are closed after connectionSetupTimeoutMs, not held.
    await until(() => sockets.every((s) => s.closed), 'the silent sockets closed', patience);
    await until(() => h.server.restConnectionStats().open === 0, 'no REST socket held', patience);
    // With its sockets gone, the first peer is served again.
    assert.equal(await postClusters(port, '127.0.0.1'), 200);
  });
});
