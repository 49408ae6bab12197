// A SIGTERM that comes while `xds-server` is still loading its modules (before it parses its flags and starts) is
// logged and ends the process with 0, instead of killing it with 143 and nothing said. The real process is held
// in the middle of its module loading (hold-import.mjs holds the import of @xds/server on Node's hooks thread) and
// signalled there: no timing luck decides which phase the signal meets.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ChildLines } from './demo/child-lines.js';
import { binPath } from './demo/server-process.js';
import { exited } from './test-exit.js';
import { poll } from './test-support.js';

const holdImport = fileURLToPath(new URL('./hold-import.mjs', import.meta.url));

describe('xds-server signalled while loading', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} during the module loading is logged and exits 0`, async () => {
      const child = ChildLines.spawn({
        args: ['--import', holdImport, binPath, '--xds', '127.0.0.1:0', '--admin', '127.0.0.1:0'],
        env: { ...process.env, XDS_TEST_HOLD_IMPORT: '@xds/server' },
      });
      // 'close' comes after the last line of stdout was read ('exit' may come before)
      let closed = false;
      child.child.once('close', () => {
        closed = true;
      });
      try {
        await poll(
          'the hold of the @xds/server import',
          () => (child.text.some((line) => line === 'holding @xds/server') || child.done ? true : undefined),
          120_000,
          20,
        );
        assert.equal(child.done, false, `the process ended before it was signalled:\n${child.tail()}`);
        child.child.kill(signal);
        const exit = await exited(child.child, 120_000, `xds-server after ${signal}`, {
          details: () => child.tail(),
        });
        assert.deepEqual(exit, { code: 0, signal: null }, child.tail());
        await poll("the end of the child's output", () => (closed ? true : undefined), 120_000, 20);
        const line = child.lines.find((l) => l['signal'] === signal);
        assert.ok(line !== undefined, child.tail());
        assert.equal(line['name'], 'xds-server');
        assert.equal(line['msg'], `${signal} while loading, before the start: exiting`);
        assert.ok(
          child.text.includes(`xds-server: ${signal} while loading, before the start: exiting`),
          `the stderr line for ${signal}:\n${child.tail()}`,
        );
        assert.ok(!child.lines.some((l) => typeof l['xds'] === 'string'), 'nothing was started');
      } finally {
        await child.stop('SIGKILL');
      }
    });
  }
});
