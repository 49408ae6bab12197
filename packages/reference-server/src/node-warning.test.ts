// Rule L4 (no input takes the server down): on a Node that a client can abort over HTTP/2 (docs/security.md, "Known
// issue"), xds-server says so in one warning line once started (xds-relay too: its node-warning.test.ts); on a Node
// with the fix, it says nothing of it. The command is started on free ports and stopped with SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { nodeHttp2Warning } from '@xds/server';
import { binPath } from './demo/server-process.js';
import { exitWithin } from './test-exit.js';
import { poll } from './test-support.js';

/** One JSON line of the log. */
interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly node?: string;
  readonly xds?: string;
  readonly admin?: string;
}

/** The warning this Node gets, or undefined when it has the fix. */
const expected = nodeHttp2Warning();

/** A started command's log: its JSON lines, until the line that says it has started and the line after. */
async function startLog(bin: string, args: string[]): Promise<LogLine[]> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: LogLine[] = [];
  let tail = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    tail += chunk;
    const parts = tail.split('\n');
    tail = parts.pop() ?? '';
    for (const part of parts) if (part.startsWith('{')) lines.push(JSON.parse(part) as LogLine);
  });
  child.stderr.resume();
  try {
    // Started: the line that names the listeners; the warning, when there is one, is the next line.
    const started = () => lines.findIndex((l) => l.xds !== undefined && l.admin !== undefined);
    await poll(
      'the start',
      () => (started() >= 0 && lines.length > started() + (expected ? 1 : 0) ? true : undefined),
      120_000,
      20,
    );
  } finally {
    child.kill('SIGTERM');
    await exitWithin(child, 60_000);
  }
  return lines;
}

describe('the Node warning once started (rule L4)', () => {
  it('L4: xds-server warns once on a Node without the HTTP/2 fix, and not on one with it', async () => {
    const lines = await startLog(binPath, ['--xds', '127.0.0.1:0', '--admin', '127.0.0.1:0']);
    const warnings = lines.filter((l) => l.msg.includes('docs/security.md "Known issue"'));
    if (expected === undefined) {
      assert.equal(warnings.length, 0, `Node ${process.versions.node} has the fix: no warning`);
      return;
    }
    assert.equal(warnings.length, 1, `one warning line on Node ${process.versions.node}`);
    assert.equal(warnings[0]?.level, 40);
    assert.equal(warnings[0]?.msg, expected);
    assert.equal(warnings[0]?.node, process.versions.node);
  });
});
