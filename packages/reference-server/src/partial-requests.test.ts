// Rule L2 for request messages partly received in `xds-server`: `--limit maxPartialRequestBytesTotal=N` reaches the
// xDS server, and its account and refusals show in /metrics, /debug/syncz and the status page (the check
// @xds/testing's assertPartialRequestBudget makes, shared with xds-relay's partial-requests.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertPartialRequestBudget } from '@xds/testing';
import { parseCommandLine } from './cli.js';
import { createLogger } from './logger.js';
import { startReferenceServer } from './reference-server.js';
import { memoryLog } from './test-support.js';

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
    try {
      await assertPartialRequestBudget(server.xdsAddress, server.adminAddress, 4 * mib);
    } finally {
      await server.close();
    }
  });
});
