// Rule L2 for request messages partly received in `xds-relay`: `--limit maxPartialRequestBytesTotal=N` reaches the
// relay's downstream server, and its account and refusals show in /metrics, /debug/syncz and the status page, as
// they do in `xds-server`'s.
import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { holdPartialMessage } from '@xds/testing';
import { parseRelayCommandLine } from './cli.js';
import { closeAfterAll, getAdmin, relayWaitMs, startOrigin, startQuietRelayProcess } from './test-support.js';

const closers = closeAfterAll();
const mib = 1024 * 1024;

describe('xds-relay request messages partly received', { timeout: 180_000 }, () => {
  it('L2: --limit maxPartialRequestBytesTotal holds; the bytes held and the refusals show in /metrics, /debug/syncz and the status page', async () => {
    const origin = await startOrigin();
    closers.push(() => origin.server.close());
    const parsed = parseRelayCommandLine([
      '--upstream',
      origin.address,
      '--limit',
      `maxPartialRequestBytesTotal=${4 * mib}`,
    ]);
    assert.equal(parsed.kind, 'run');
    if (parsed.kind !== 'run') return;
    const running = await startQuietRelayProcess(closers, {
      ...parsed.options,
      xds: '127.0.0.1:0',
      admin: '127.0.0.1:0',
    });
    const session = connect(`http://${running.xdsAddress}`);
    session.on('error', () => {});
    closers.push(async () => {
      session.destroy();
    });
    type Stats = { server: { partialRequests: Record<string, unknown> & { reservedBytes: number } } };
    const syncz = async () =>
      JSON.parse((await getAdmin(running.adminAddress, '/debug/syncz')).body) as Stats;

    void holdPartialMessage(session, 2 * mib);
    // Polled with a deadline: the message is held once the relay has read its first frame.
    let held = await syncz();
    for (const deadline = Date.now() + relayWaitMs; Date.now() < deadline; held = await syncz()) {
      if (held.server.partialRequests.reservedBytes === 2 * mib) break;
      await delay(50);
    }
    assert.equal(held.server.partialRequests.reservedBytes, 2 * mib, 'the first message held');
    assert.equal(await holdPartialMessage(session, 2 * mib), 8, 'RESOURCE_EXHAUSTED');

    const metrics = (await getAdmin(running.adminAddress, '/metrics')).body;
    assert.match(metrics, new RegExp(`^xds_server_partial_request_bytes ${2 * mib}$`, 'm'));
    assert.match(metrics, new RegExp(`^xds_server_partial_request_budget_bytes ${4 * mib}$`, 'm'));
    assert.match(
      metrics,
      /^xds_server_streams_ended_by_limit_total\{limit="maxPartialRequestBytesTotal"\} 1$/m,
    );
    assert.deepEqual((await syncz()).server.partialRequests, {
      limitBytes: 4 * mib,
      perConnectionLimitBytes: 32 * mib,
      reservedBytes: 2 * mib,
      messages: 1,
      connections: 1,
      peakBytes: 2 * mib,
      refused: { maxPartialRequestBytesTotal: 1, maxPartialRequestBytesPerConnection: 0 },
    });
    const page = (await getAdmin(running.adminAddress, '/')).body;
    assert.match(
      page,
      /<span id="partial-requests">unfinished requests 2\.0 of 4\.0 MiB · 1 refused<\/span>/,
    );
  });
});
