#!/usr/bin/env node
// Keeps docs/protocol.md honest: every rule it lists (a `<!-- proved-by ID … -->` marker under the rule) must be
// named by at least one test title (`it('S4: …')`, `it('S1, S2: …')`), and every file the "Proved by" line under
// a marker lists must still name that rule. `--write` regenerates those lines from the tests; the check (the
// default) fails, naming the rule, when a rule has no test or the page claims a test that no longer names it.
// A test file added since the last `--write` is not an error: the page lists tests that prove the rule, not all.
// `--doc PATH` checks another copy (used by its test).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const write = args.includes('--write');
const docAt = args.indexOf('--doc');
const docPath = docAt === -1 ? join(root, 'docs/protocol.md') : args[docAt + 1];

/** Every `*.test.ts` under packages/, test/ and bench/, outside node_modules, dist and generated code. */
function testFiles(dir, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (['node_modules', 'dist', 'gen', '.turbo'].includes(entry.name) || entry.name.startsWith('.'))
      continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) testFiles(path, out);
    else if (entry.name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

/** Rule id → the files (relative, sorted) and number of tests that name it at the start of their title. */
function ruleTests() {
  const found = new Map();
  const title = /\b(?:it|test)\(\s*['"`]((?:[SDRLX]\d+[a-z]?)(?:\s*,\s*[SDRLX]\d+[a-z]?)*)\s*:/g;
  for (const dir of ['packages', 'test', 'bench']) {
    let files = [];
    try {
      files = testFiles(join(root, dir));
    } catch {
      continue;
    }
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(title)) {
        for (const id of match[1].split(',').map((s) => s.trim())) {
          const entry = found.get(id) ?? new Map();
          const rel = relative(root, file);
          entry.set(rel, (entry.get(rel) ?? 0) + 1);
          found.set(id, entry);
        }
      }
    }
  }
  return found;
}

const marker = /^<!-- proved-by ([A-Z0-9a-z ]+) -->\n(?:Proved by: (.*)\n)?/gm;
const tests = ruleTests();
const problems = [];
const doc = readFileSync(docPath, 'utf8');
const generated = doc.replace(marker, (_whole, idList, claimed) => {
  const ids = idList.trim().split(/\s+/);
  const files = new Set();
  for (const id of ids) {
    const named = tests.get(id);
    if (named === undefined)
      problems.push(`rule ${id} has no test: name it at the start of a test title ("${id}: …")`);
    else for (const file of named.keys()) files.add(file);
  }
  for (const file of (claimed ?? '').matchAll(/`([^`]+)`/g)) {
    if (!files.has(file[1]))
      problems.push(
        `rule ${ids.join('/')}: ${file[1]} is listed as its proof but has no test naming it (run --write)`,
      );
  }
  const list = [...files]
    .sort()
    .map((file) => `\`${file}\``)
    .join(', ');
  return `<!-- proved-by ${ids.join(' ')} -->\nProved by: ${list || 'nothing yet'}\n`;
});

if (write) {
  writeFileSync(docPath, generated);
  console.log(`protocol-doc: wrote ${relative(root, docPath)}`);
}
if (problems.length > 0) {
  for (const problem of problems) console.error(`protocol-doc: ${problem}`);
  process.exit(1);
}
