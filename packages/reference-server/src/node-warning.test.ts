// Rule L4 (no input takes the server down): on a Node that a client can abort over HTTP/2 (docs/security.md, "Known
// issue"), xds-server says so in one warning line once started (xds-relay too: its node-warning.test.ts; both use
// @xds/testing's assertNodeWarning); on a Node with the fix, it says nothing of it. The command is started on free
// ports and stopped with SIGTERM.
import { describe, it } from 'node:test';
import { nodeHttp2Warning } from '@xds/server';
import { assertNodeWarning } from '@xds/testing';
import { binPath } from './demo/server-process.js';

describe('the Node warning once started (rule L4)', () => {
  it('L4: xds-server warns once on a Node without the HTTP/2 fix, and not on one with it', async () => {
    await assertNodeWarning(binPath, ['--xds', '127.0.0.1:0', '--admin', '127.0.0.1:0'], nodeHttp2Warning());
  });
});
