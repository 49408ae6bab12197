// `npm start` runs scripts/workspace.mjs, which starts the server as its child: a signal sent to it must reach the
// server (drain, exit code passed back), never leave the server running on its own.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ChildLines } from './demo/child-lines.js';

const workspaceScript = fileURLToPath(new URL('../../../scripts/workspace.mjs', import.meta.url));

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
      const line = await child.waitFor(
        (l) => typeof l['xds'] === 'string' && typeof l['pid'] === 'number',
        20_000,
      );
      const serverPid = line['pid'] as number;
      started.push(serverPid);
      assert.notEqual(serverPid, child.child.pid, 'the server runs as a child of the workspace script');
      child.child.kill(signal);
      const exit = await child.exited;
      assert.deepEqual(exit, { code: 0, signal: null }, `workspace script exit after ${signal}`);
      await waitUntil(() => !alive(serverPid), 10_000, `server pid ${serverPid} to exit`);
    });
  }
});
