/**
 * The start-up log of `xds-server` and `xds-relay`, for the test both share of rule L4 (no input takes the server
 * down): on a Node that a client can abort over HTTP/2 (docs/security.md, "Known issue") the command says so in one
 * warning line once started, and on a Node with the fix it says nothing of it. The command is started on the
 * arguments given (free ports) and stopped with SIGTERM (SIGKILL when it has not exited a minute later).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { until } from './events.js';

/** One JSON line of a command's log, with the fields the start-up lines carry. */
export interface StartLogLine {
  /** pino's level: 30 info, 40 warn. */
  readonly level: number;
  readonly msg: string;
  /** The Node version, on the warning line. */
  readonly node?: string;
  /** The xDS listener's address, on the line that says the command has started. */
  readonly xds?: string;
  /** The admin listener's address, on that line too. */
  readonly admin?: string;
}

/** How long a command may take to start on a loaded machine (ms). */
const startWaitMs = 120_000;

/**
 * Runs `node BIN ARGS` until it has logged the line that names its listeners and `linesAfter` lines more, then stops
 * it; resolves with its JSON log lines.
 */
export async function startLog(
  bin: string,
  args: readonly string[],
  linesAfter = 0,
): Promise<StartLogLine[]> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  // 'close', not 'exit': every line the command wrote before it exited is read (its log is synchronous, and its
  // SIGTERM drain waits for its start to end, which logs the warning), so lines after the start line count too.
  const exited = once(child, 'close');
  const lines: StartLogLine[] = [];
  let tail = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    tail += chunk;
    const parts = tail.split('\n');
    tail = parts.pop() ?? '';
    for (const part of parts) if (part.startsWith('{')) lines.push(JSON.parse(part) as StartLogLine);
  });
  child.stderr.resume();
  try {
    const started = () => lines.findIndex((l) => l.xds !== undefined && l.admin !== undefined);
    await until('the start line', () => started() >= 0 && lines.length > started() + linesAfter, startWaitMs);
  } finally {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    await exited;
    clearTimeout(timer);
  }
  return lines;
}

/**
 * Starts `node BIN ARGS` and asserts that it logs `expected` (the Node HTTP/2 warning of this Node, `@xds/server`'s
 * `nodeHttp2Warning()`) once, as a warning naming the Node version, on the line after its start line; or, when
 * `expected` is undefined (this Node has the fix), that it logs no such warning.
 */
export async function assertNodeWarning(
  bin: string,
  args: readonly string[],
  expected: string | undefined,
): Promise<void> {
  // The warning, when there is one, is the line after the start line. Without one, every line the command logged
  // until it exited is read (startLog waits for 'close', and the drain begins only once the start has ended), so
  // a warning anywhere in the start would be seen (review R10: the command was stopped at its start line, and
  // a warning on the next line went unread).
  const lines = await startLog(bin, args, expected === undefined ? 0 : 1);
  assert.ok(
    lines.some((l) => l.msg === 'shutting down'),
    'the command drained, so everything it logged while starting was read',
  );
  const warnings = lines.filter((l) => l.msg.includes('docs/security.md "Known issue"'));
  if (expected === undefined) {
    assert.equal(warnings.length, 0, `Node ${process.versions.node} has the fix: no warning`);
    return;
  }
  assert.equal(warnings.length, 1, `one warning line on Node ${process.versions.node}`);
  assert.equal(warnings[0]?.level, 40);
  assert.equal(warnings[0]?.msg, expected);
  assert.equal(warnings[0]?.node, process.versions.node);
}
