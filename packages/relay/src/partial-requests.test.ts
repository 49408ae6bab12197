// Rule L2 for request messages partly received in `xds-relay`: `--limit maxPartialRequestBytesTotal=N` reaches the
// relay's downstream server, and its account and refusals show in /metrics, /debug/syncz and the status page, as they
// do in `xds-server`'s (the same check, @xds/testing's assertPartialRequestBudget).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertPartialRequestBudget } from '@xds/testing';
import { parseRelayCommandLine } from './cli.js';
import { closeAfterAll, relayWaitMs, startOrigin, startQuietRelayProcess } from './test-support.js';

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
    await assertPartialRequestBudget(running.xdsAddress, running.adminAddress, 4 * mib, relayWaitMs);
  });
});
