#!/usr/bin/env node
// Runs every `*.test.ts` under the given folders (default: src) with node:test through tsx.
// Node 20's --test does not expand globs, so the files are found here.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Lists the test files below a folder, in a stable order. */
function find(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name === 'gen') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...find(path));
    else if (entry.name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

// --force-exit: end each test file's process when its tests are done (for files that hold global clients,
// such as @grpc/grpc-js-xds's, which cannot be closed).
const args = process.argv.slice(2);
const forceExit = args.includes('--force-exit');
const dirs = args.filter((a) => a !== '--force-exit');
// A path ending in .test.ts is one test file; anything else is a folder to search.
const files = (dirs.length > 0 ? dirs : ['src']).flatMap((p) => (p.endsWith('.test.ts') ? [p] : find(p)));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    '--test-concurrency=1',
    '--disable-warning=ExperimentalWarning',
    ...(forceExit ? ['--test-force-exit'] : []),
    ...files,
  ],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
