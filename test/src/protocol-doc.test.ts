// docs/protocol.md lists every rule this project implements; scripts/protocol-doc.mjs checks that each has a test
// that names it. This test runs that check on the real page, and shows that it fails on a rule without a test.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const script = join(root, 'scripts/protocol-doc.mjs');

function check(doc?: string) {
  const args = doc === undefined ? [script] : [script, '--doc', doc];
  // a deadline (the script reads a few files): a hung check fails with status null and SIGKILL, not a hung suite
  return spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL' });
}

describe('docs/protocol.md', () => {
  it('names a test for every rule it lists, and every test it names still proves its rule', () => {
    const result = check();
    assert.equal(result.status, 0, result.stderr);
  });

  it('the check fails on a rule without a test and on a listed proof that names no such rule', () => {
    const dir = mkdtempSync(join(tmpdir(), 'protocol-doc-'));
    try {
      const page = readFileSync(join(root, 'docs/protocol.md'), 'utf8');
      const untested = join(dir, 'untested.md');
      writeFileSync(untested, `${page}\n### Q1 A rule nobody tests\n<!-- proved-by Q1 -->\n`);
      const first = check(untested);
      assert.equal(first.status, 1);
      assert.match(first.stderr, /rule Q1 has no test/);

      const wrongProof = join(dir, 'wrong-proof.md');
      writeFileSync(
        wrongProof,
        page.replace(/(<!-- proved-by S3 -->\nProved by: )/, '$1`packages/api/src/type-url.test.ts`, '),
      );
      const second = check(wrongProof);
      assert.equal(second.status, 1);
      assert.match(second.stderr, /S3: packages\/api\/src\/type-url\.test\.ts is listed as its proof/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
