// `npm start` runs scripts/workspace.mjs, which starts the server as its child: a signal sent to it must reach the
// server (drain, exit code passed back), never leave the server running on its own.
import assert from 'node:assert/strict';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ChildLines } from './demo/child-lines.js';

const workspaceScript = fileURLToPath(new URL('../../../scripts/workspace.mjs', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));
/** npm's own CLI script, beside the node that runs this test (as Node's installers put it). */
const npmLink = join(dirname(process.execPath), 'npm');
const npmCli = existsSync(npmLink) ? realpathSync(npmLink) : undefined;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('npm start (scripts/workspace.mjs start)', () => {
  const started: number[] = [];
  after(() => {
    for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`forwards ${signal} to the server, which drains and exits, and exits with its code`, async () => {
      const child = ChildLines.spawn({
        args: [workspaceScript, 'start', '--xds', '127.0.0.1:0', '--admin', '127.0.0.1:0'],
        env: { ...process.env, XDS_WORKSPACE_SKIP_SETUP: '1' },
      });
      let line: Record<string, unknown>;
      try {
        line = await child.waitFor(
          (l) => typeof l['xds'] === 'string' && typeof l['pid'] === 'number',
          // a deadline, not a wait: at load 30+ the start has taken more than 20 s (as in demo/server-process.ts)
          60_000,
        );
      } catch (error) {
        // the script forwards SIGTERM to a server whose pid this test never learnt: neither is left running
        await child.stop('SIGTERM');
        throw error;
      }
      const serverPid = line['pid'] as number;
      started.push(serverPid);
      assert.notEqual(serverPid, child.child.pid, 'the server runs as a child of the workspace script');
      child.child.kill(signal);
      const exit = await child.exited;
      assert.deepEqual(exit, { code: 0, signal: null }, `workspace script exit after ${signal}`);
      await waitUntil(() => !alive(serverPid), 10_000, `server pid ${serverPid} to exit`);
    });
  }

  it('`npm start` itself: SIGTERM to the npm process reaches the server (the script execs, no shell in between)', async (t) => {
    if (npmCli === undefined) {
      t.diagnostic(`no npm beside ${process.execPath}`);
      assert.fail(`npm is not installed beside node (${npmLink}); npm start cannot be tested`);
    }
    const child = ChildLines.spawn({
      args: [npmCli, 'start', '--', '--xds', '127.0.0.1:0', '--admin', '127.0.0.1:0'],
      env: { ...process.env, XDS_WORKSPACE_SKIP_SETUP: '1' },
      cwd: root,
    });
    const line = await child.waitFor(
      (l) => typeof l['xds'] === 'string' && typeof l['pid'] === 'number',
      30_000,
    );
    const serverPid = line['pid'] as number;
    started.push(serverPid);
    child.child.kill('SIGTERM');
    await child.exited;
    await waitUntil(() => !alive(serverPid), 10_000, `server pid ${serverPid} to exit after npm got SIGTERM`);
  });
});
