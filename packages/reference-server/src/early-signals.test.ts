// A SIGTERM that comes while `xds-server` is still loading its modules (before it parses its flags and starts) is
// logged and ends the process with 0, instead of killing it with 143 and nothing said. The real process is held
// in the middle of its module loading (hold-import.mjs holds the import of @xds/server on Node's hooks thread) and
// signalled there: no timing luck decides which phase the signal meets.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ChildLines } from './demo/child-lines.js';
import { binPath } from './demo/server-process.js';

const holdImport = fileURLToPath(new URL('./hold-import.mjs', import.meta.url));

/** Polls `check` every 20 ms until it is true; throws `what` after `timeoutMs`. */
async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('xds-server signalled while loading', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} during the module loading is logged and exits 0`, async () => {
      const child = ChildLines.spawn({
        args: ['--import', holdImport, binPath, '--xds', '127.0.0.1:0', '--admin', '127.0.0.1:0'],
        env: { ...process.env, XDS_TEST_HOLD_IMPORT: '@xds/server' },
      });
      // 'close' comes after the last line of stdout was read ('exit' may come before)
      const closed = new Promise<void>((resolve) => child.child.once('close', () => resolve()));
      try {
        await waitUntil(
          () => child.text.some((line) => line === 'holding @xds/server') || child.done,
          60_000,
          'hold of the @xds/server import',
        );
        assert.equal(child.done, false, `the process ended before it was signalled:\n${child.tail()}`);
        child.child.kill(signal);
        const exit = await child.exited;
        assert.deepEqual(exit, { code: 0, signal: null }, child.tail());
        await closed;
        const line = child.lines.find((l) => l['signal'] === signal);
        assert.ok(line !== undefined, child.tail());
        assert.equal(line['name'], 'xds-server');
        assert.equal(line['msg'], `${signal} while loading, before the start: exiting`);
        assert.ok(child.text.includes(`xds-server: ${signal} while loading, before the start: exiting`));
        assert.ok(!child.lines.some((l) => typeof l['xds'] === 'string'), 'nothing was started');
      } finally {
        await child.stop('SIGKILL');
      }
    });
  }
});
