// Rule L4 (no input takes the server down): on a Node that a client can abort over HTTP/2 (docs/security.md, "Known
// issue"), xds-server says so in one warning line at start (xds-relay too: its node-warning.test.ts), before anything listens; on a Node with
// the fix, it says nothing of it. It is started on a busy port, so that it logs its start and exits by itself.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { nodeHttp2Warning } from '@xds/server';
import { binPath } from './demo/server-process.js';

/** Runs a command to its exit (at most 60 s) and returns the JSON lines it logged. */
function logLines(bin: string, args: string[]): Promise<{ level: number; msg: string; node?: string }[]> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { timeout: 60_000 }, (_error, stdout) =>
      resolve(
        stdout
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as { level: number; msg: string; node?: string }),
      ),
    );
  });
}

describe('the Node warning at start (rule L4)', () => {
  let blocker: Server;
  let busy: string;
  before(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    assert.ok(typeof address === 'object' && address !== null, 'the blocker listens');
    busy = `127.0.0.1:${address.port}`;
  });
  after(() => new Promise<void>((resolve) => blocker.close(() => resolve())));

  const expected = nodeHttp2Warning();
  const check = (lines: { level: number; msg: string; node?: string }[]) => {
    const warnings = lines.filter((l) => l.msg.includes('docs/security.md "Known issue"'));
    if (expected === undefined) {
      assert.equal(warnings.length, 0, `Node ${process.versions.node} has the fix: no warning`);
      return;
    }
    assert.equal(warnings.length, 1, `one warning line on Node ${process.versions.node}`);
    assert.equal(warnings[0]?.level, 40);
    assert.equal(warnings[0]?.msg, expected);
    assert.equal(warnings[0]?.node, process.versions.node);
  };

  it('L4: xds-server warns once on a Node without the HTTP/2 fix, and not on one with it', async () => {
    check(await logLines(binPath, ['--xds', busy, '--admin', '127.0.0.1:0']));
  });
});
