// Rule L4 (no input takes the server down): on a Node that a client can abort over HTTP/2 (docs/security.md, "Known
// issue"), xds-relay says so in one warning line once started, as xds-server does (both use @xds/testing's
// assertNodeWarning); on a Node with the fix, it says nothing of it. The command is started on free ports (its
// upstream refuses connections) and stopped with SIGTERM.
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { nodeHttp2Warning } from '@xds/server';
import { assertNodeWarning } from '@xds/testing';

/** xds-relay's built command (a package's tests run after its build). */
const binPath = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

describe('the Node warning once started (rule L4)', () => {
  it('L4: xds-relay warns once on a Node without the HTTP/2 fix, and not on one with it', async () => {
    const args = ['--upstream', '127.0.0.1:1', '--xds', '127.0.0.1:0', '--admin', '127.0.0.1:0'];
    await assertNodeWarning(binPath, args, nodeHttp2Warning());
  });
});
