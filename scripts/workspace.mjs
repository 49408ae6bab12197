#!/usr/bin/env node
// Entry point of the root `npm test`, `npm start`, `npm run bench` and `npm run fuzz` on a machine that has only Node and npm:
// it fetches the pinned pnpm through npx, installs the workspace from the lockfile and runs the task with turbo.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pnpmSpec = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager;
const bin = join(root, 'node_modules', '.bin');
const env = {
  ...process.env,
  PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`,
  TURBO_TELEMETRY_DISABLED: '1',
  DO_NOT_TRACK: '1',
};

/** Runs a command in the workspace root and exits with its status when it fails. */
function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env });
  if (result.error) {
    console.error(`xds: could not run ${command}: ${result.error.message}`);
    process.exit(1);
  }
  if (result.status !== 0) process.exit(result.status ?? 1);
}

function install() {
  const local = join(bin, 'pnpm');
  const args = ['install', '--frozen-lockfile', '--reporter=append-only'];
  if (existsSync(local)) run(local, args);
  else run('npx', ['--yes', pnpmSpec, ...args]);
}

/**
 * Runs turbo with its output passed through, adds up the node:test totals of every package ("ℹ pass N",
 * "ℹ fail N"), prints them as one line, and exits with turbo's status. When turbo failed (a build, type check or
 * lint task, even with every test passing), the closing line says so and names the failed tasks.
 */
function runTests(args) {
  const child = spawn('turbo', args, { cwd: root, stdio: ['inherit', 'pipe', 'inherit'], env });
  let passed = 0;
  let failed = 0;
  const failedTasks = new Set();
  // node:test's spec reporter ends a failed run with a "✖ failing tests:" section; turbo prints it in the middle of
  // the log (grouped by task), so it is kept here, per task and bounded, and printed again after everything.
  const failing = new Map();
  const maxFailingLines = 80;
  let tail = '';
  const scan = (text) => {
    for (const line of text.split('\n')) {
      const task = /^(\S+:\S+): /.exec(line)?.[1];
      if (task !== undefined) {
        const kept = failing.get(task);
        if (kept !== undefined && kept.length < maxFailingLines) kept.push(line);
        else if (kept === undefined && line.includes('✖ failing tests:')) failing.set(task, [line]);
      }
      const match = /ℹ (pass|fail) (\d+)\s*$/.exec(line);
      if (match?.[1] === 'pass') passed += Number(match[2]);
      else if (match?.[1] === 'fail') failed += Number(match[2]);
      // turbo's summary: " Failed:    @xds/api#lint, //#lint"
      const tasks = /^\s*Failed:\s+(\S.*)$/.exec(line);
      if (tasks?.[1] !== undefined) for (const task of tasks[1].split(/,\s*/)) failedTasks.add(task.trim());
    }
  };
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    const text = tail + chunk.toString('utf8');
    const cut = text.lastIndexOf('\n');
    scan(text.slice(0, cut + 1));
    tail = text.slice(cut + 1);
  });
  child.on('close', (code) => {
    scan(tail);
    for (const [task, lines] of failing) {
      console.log(
        `\n${task}: the failing tests again${lines.length >= maxFailingLines ? ' (first lines)' : ''}:`,
      );
      console.log(lines.join('\n'));
    }
    console.log(`\ntests: ${passed} passed, ${failed} failed`);
    if (code !== 0) {
      const which = failedTasks.size > 0 ? [...failedTasks].join(', ') : `turbo exited with ${code}`;
      console.log(`npm test FAILED: ${which}`);
    }
    process.exit(code ?? 1);
  });
}

/**
 * Runs a long-lived command (the reference server) with its output passed through, forwards SIGINT, SIGTERM and
 * SIGHUP to it, and exits with its code (or re-raises the signal that ended it), so `kill -TERM` on `npm start`
 * drains the server instead of leaving it running.
 */
function runForwardingSignals(command, args) {
  const child = spawn(command, args, { cwd: root, stdio: 'inherit', env });
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const forward = (signal) => child.kill(signal);
  for (const signal of signals) process.on(signal, forward);
  child.on('error', (error) => {
    console.error(`xds: could not run ${command}: ${error.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    for (const s of signals) process.off(s, forward);
    if (signal !== null) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}

const [task = 'test', ...rest] = process.argv.slice(2);
// XDS_WORKSPACE_SKIP_SETUP=1: the caller has installed and built already (the test of `npm start` itself).
const skipSetup = process.env.XDS_WORKSPACE_SKIP_SETUP === '1';
if (!skipSetup) install();
const turbo = ['run', '--env-mode=loose', '--log-order=grouped', '--continue'];
switch (task) {
  case 'test':
    runTests([...turbo, 'build', 'typecheck', 'lint', 'test', ...rest]);
    break;
  case 'start':
    if (!skipSetup)
      run('turbo', [...turbo, 'build', '--filter=@xds/reference-server...', '--output-logs=errors-only']);
    runForwardingSignals('node', [join(root, 'packages/reference-server/dist/bin.js'), ...rest]);
    break;
  case 'demo':
    run('turbo', [...turbo, 'build', '--filter=@xds/reference-server...', '--output-logs=errors-only']);
    runForwardingSignals(join(bin, 'pnpm'), ['--filter', '@xds/reference-server', 'run', 'demo', ...rest]);
    break;
  case 'bench':
    run('turbo', [...turbo, 'build', '--output-logs=errors-only']);
    run('node', ['--import', 'tsx', join(root, 'bench/src/main.ts'), ...rest]);
    break;
  case 'fuzz':
    run('turbo', [...turbo, 'build', '--output-logs=errors-only']);
    run('node', ['--import', 'tsx', join(root, 'test/src/fuzz/main.ts'), ...rest]);
    break;
  default:
    console.error(`xds: unknown task ${task}; use test, start, demo, bench or fuzz`);
    process.exit(2);
}
