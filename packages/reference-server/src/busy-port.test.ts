// A busy port is one clear line on stderr and exit 1: no grpc-js diagnostics on stderr, no message said twice. A
// failed start exits by itself, and so does one signalled while starting, even when nobody reads its stdout any more
// (execFile's timeout closes the pipes, then sends SIGTERM): the fatal line must not block the exit.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { binPath } from './demo/server-process.js';
import { exitWithin } from './test-exit.js';
import { poll } from './test-support.js';

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [binPath, ...args],
      { timeout: 60_000 },
      (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

describe('xds-server on a busy port', () => {
  let blocker: Server;
  let port: number;

  before(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    assert.ok(
      typeof address === 'object' && address !== null,
      "typeof address === 'object' && address !== null",
    );
    port = address.port;
  });

  after(() => new Promise<void>((resolve) => blocker.close(() => resolve())));

  it('says "address already in use" once, on one line of stderr, and exits 1', async () => {
    const { code, stdout, stderr } = await run(['--xds', `127.0.0.1:${port}`, '--admin', '127.0.0.1:0']);
    assert.equal(code, 1);
    assert.equal(stderr, `xds-server: cannot listen on 127.0.0.1:${port}: address already in use\n`);
    assert.doesNotMatch(stderr, /No address added/);
    // grpc-js's own line went to the JSON log, and the fatal line carries no stack.
    const lines = stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { level: number; msg: string; source?: string; err?: unknown });
    assert.ok(
      lines.some((l) => l.source === 'grpc-js' && /No address added/.test(l.msg)),
      "lines.some((l) => l.source === 'grpc-js' && /No address added/.test(l.msg))",
    );
    const fatal = lines.filter((l) => l.level === 60);
    assert.equal(fatal.length, 1);
    assert.equal(
      fatal[0]?.msg,
      `could not start: cannot listen on 127.0.0.1:${port}: address already in use`,
    );
    assert.equal(fatal[0]?.err, undefined);
  });

  it('exits 1 when SIGTERM comes while it is starting and its stdout is no longer read', async () => {
    const child = spawn(process.execPath, [binPath, '--xds', `127.0.0.1:${port}`, '--admin', '127.0.0.1:0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    // Its first log line says the start is under way (the model is published before the ports are bound).
    let started = false;
    child.stdout?.once('data', () => {
      started = true;
    });
    const ended = () => child.exitCode !== null || child.signalCode !== null;
    await poll('the first log line', () => (started || ended() ? true : undefined), 60_000, 20);
    assert.ok(started, `it exited before its first log line: ${stderr}`);
    // What execFile's timeout does: close the pipe, then SIGTERM.
    child.stdout?.destroy();
    child.kill('SIGTERM');
    // Well within the drain deadline (15 s) plus a loaded machine's start; without the fix it never exits.
    const exit = await exitWithin(child, 45_000);
    assert.deepEqual(exit, { code: 1, signal: null });
    assert.equal(stderr, `xds-server: cannot listen on 127.0.0.1:${port}: address already in use\n`);
  });
});
