// `npm start` runs scripts/workspace.mjs, which starts the server as its child: a signal sent to it must reach the
// server (drain, exit code passed back), never leave the server running on its own. Each run leads a process group
// of its own: whatever fails, the group (npm, the script, the server) is killed and no wait outlives its deadline.
import assert from 'node:assert/strict';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ChildLines } from './demo/child-lines.js';
import { exited, killGroup } from './test-exit.js';
import { poll } from './test-support.js';

const workspaceScript = fileURLToPath(new URL('../../../scripts/workspace.mjs', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));
/** npm's own CLI script, beside the node that runs this test (as Node's installers put it). */
const npmLink = join(dirname(process.execPath), 'npm');
const npmCli = existsSync(npmLink) ? realpathSync(npmLink) : undefined;
/** Deadlines, not waits: at load 30+ a start has taken more than 20 s, at load 60 more than 60 s. */
const startMs = 120_000;
const exitMs = 120_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start (scripts/workspace.mjs start)', () => {
  /** The process groups this file started, each led by its first child, until their test passed. */
  const groups = new Set<number>();
  const servers: number[] = [];
  after(() => {
    for (const pid of groups) killGroup(pid);
    for (const pid of servers) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });

  /**
   * Starts `node args` as a process group of its own, waits for the server's start line, sends `signal` to the
   * first process (not the group) and returns its exit and the server's pid. On any failure the group is killed.
   */
  async function startAndSignal(args: string[], cwd: string | undefined, signal: NodeJS.Signals) {
    const child = ChildLines.spawn({
      args,
      env: { ...process.env, XDS_WORKSPACE_SKIP_SETUP: '1' },
      ...(cwd === undefined ? {} : { cwd }),
      detached: true,
    });
    const group = child.child.pid;
    if (group !== undefined) groups.add(group);
    try {
      const line = await child.waitFor(
        (l) => typeof l['xds'] === 'string' && typeof l['pid'] === 'number',
        startMs,
      );
      const serverPid = line['pid'] as number;
      servers.push(serverPid);
      assert.notEqual(serverPid, child.child.pid, 'the server runs as a child of the workspace script');
      child.child.kill(signal);
      const exit = await exited(child.child, exitMs, `${args[0]} after ${signal}`, {
        group: true,
        details: () => child.tail(),
      });
      return {
        exit,
        serverPid,
        tail: () => child.tail(),
        passed: () => group !== undefined && groups.delete(group),
      };
    } catch (error) {
      if (group !== undefined) killGroup(group);
      throw error;
    }
  }

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`forwards ${signal} to the server, which drains and exits, and exits with its code`, async () => {
      const { exit, serverPid, tail, passed } = await startAndSignal(
        [workspaceScript, 'start', '--xds', '127.0.0.1:0', '--admin', '127.0.0.1:0'],
        undefined,
        signal,
      );
      assert.deepEqual(exit, { code: 0, signal: null }, `workspace script exit after ${signal}\n${tail()}`);
      await poll(`server pid ${serverPid} to exit`, () => (alive(serverPid) ? undefined : true), exitMs, 20);
      passed();
    });
  }

  it('`npm start` itself: SIGTERM to the npm process reaches the server (the script execs, no shell in between)', async (t) => {
    if (npmCli === undefined) {
      t.diagnostic(`no npm beside ${process.execPath}`);
      assert.fail(`npm is not installed beside node (${npmLink}); npm start cannot be tested`);
    }
    const { serverPid, passed } = await startAndSignal(
      [npmCli, 'start', '--', '--xds', '127.0.0.1:0', '--admin', '127.0.0.1:0'],
      root,
      'SIGTERM',
    );
    await poll(
      `server pid ${serverPid} to exit after npm got SIGTERM`,
      () => (alive(serverPid) ? undefined : true),
      exitMs,
      20,
    );
    passed();
  });
});
