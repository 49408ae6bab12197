#!/usr/bin/env node
// Entry point of the root `npm test`, `npm start` and `npm run bench` on a machine that has only Node and npm:
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
 * "ℹ fail N"), prints them as one closing line, and exits with turbo's status.
 */
function runTests(args) {
  const child = spawn('turbo', args, { cwd: root, stdio: ['inherit', 'pipe', 'inherit'], env });
  let passed = 0;
  let failed = 0;
  let tail = '';
  const scan = (text) => {
    for (const line of text.split('\n')) {
      const match = /ℹ (pass|fail) (\d+)\s*$/.exec(line);
      if (match?.[1] === 'pass') passed += Number(match[2]);
      else if (match?.[1] === 'fail') failed += Number(match[2]);
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
    console.log(`\ntests: ${passed} passed, ${failed} failed`);
    process.exit(code ?? 1);
  });
}

const [task = 'test', ...rest] = process.argv.slice(2);
install();
const turbo = ['run', '--env-mode=loose', '--log-order=grouped', '--continue'];
switch (task) {
  case 'test':
    runTests([...turbo, 'build', 'typecheck', 'lint', 'test', ...rest]);
    break;
  case 'start':
    run('turbo', [...turbo, 'build', '--filter=@xds/reference-server...', '--output-logs=errors-only']);
    run('node', [join(root, 'packages/reference-server/dist/bin.js'), ...rest]);
    break;
  case 'demo':
    run('turbo', [...turbo, 'build', '--filter=@xds/reference-server...', '--output-logs=errors-only']);
    run(join(bin, 'pnpm'), ['--filter', '@xds/reference-server', 'run', 'demo', ...rest]);
    break;
  case 'bench':
    run('turbo', [...turbo, 'build', '--output-logs=errors-only']);
    run('node', ['--import', 'tsx', join(root, 'bench/src/main.ts'), ...rest]);
    break;
  default:
    console.error(`xds: unknown task ${task}; use test, start, demo or bench`);
    process.exit(2);
}
