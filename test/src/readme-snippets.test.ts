// The READMEs' runnable examples are run here, so the docs cannot drift from the code. A code block runs when the
// line just before its opening fence is `<!-- run -->`; it is written as an ES module into test/.snippets/ (where
// the workspace packages resolve by name) and run with tsx. It must exit on its own with status 0: an example
// that leaves a server or a client open fails, as it would for a user. A snippet runs in one process (node with
// tsx's loader, not tsx's command, which starts a second node) and has minutes to exit: CI runs every package's tests
// at once on two cores, where a snippet that takes 3 s alone has taken over 60 s.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const snippetDir = fileURLToPath(new URL('../.snippets/', import.meta.url));
const tsxLoader = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;

/** How long a snippet may take to exit: long enough for a loaded CI machine; a snippet that never exits fails. */
const exitWithinMs = 180_000;

/** A runnable block: where it is and its code. */
interface Snippet {
  readonly file: string;
  readonly line: number;
  readonly code: string;
}

/** The README files: the root one and each package's; and docs/security.md (its mutual-TLS example). */
function readmes(): string[] {
  const files = [join(root, 'README.md'), join(root, 'docs', 'security.md')];
  for (const entry of readdirSync(join(root, 'packages'))) {
    const readme = join(root, 'packages', entry, 'README.md');
    if (existsSync(readme)) files.push(readme);
  }
  return files;
}

/** The blocks marked `<!-- run -->` in a markdown file. */
export function runnableBlocks(file: string, text: string): Snippet[] {
  const lines = text.split('\n');
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]?.trim() !== '<!-- run -->') continue;
    const fence = lines[i + 1] ?? '';
    if (!/^```(ts|typescript|js|mjs)\s*$/.test(fence)) {
      throw new Error(`${file}:${i + 1}: <!-- run --> must be followed by a \`\`\`ts block`);
    }
    const end = lines.findIndex((l, j) => j > i + 1 && l.startsWith('```'));
    if (end === -1) throw new Error(`${file}:${i + 2}: the code block never closes`);
    out.push({ file, line: i + 2, code: lines.slice(i + 2, end).join('\n') });
  }
  return out;
}

function run(
  path: string,
  timeoutMs: number,
): Promise<{ code: number | null; output: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', tsxLoader, path], {
      cwd: snippetDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output, timedOut });
    });
  });
}

describe('README examples', () => {
  mkdirSync(snippetDir, { recursive: true });
  const snippets = readmes().flatMap((file) => runnableBlocks(file, readFileSync(file, 'utf8')));

  it('the root README has at least one runnable example (the quick start)', () => {
    assert.ok(
      snippets.some((s) => s.file === join(root, 'README.md')),
      "snippets.some((s) => s.file === join(root, 'README.md'))",
    );
  });

  it('a block not marked runnable is not run, and a marked one is found with its line', () => {
    const found = runnableBlocks('x.md', 'text\n```ts\nskip()\n```\n<!-- run -->\n```ts\nrun()\n```\n');
    assert.deepEqual(found, [{ file: 'x.md', line: 6, code: 'run()' }]);
  });

  for (const snippet of snippets) {
    const where = `${relative(root, snippet.file)}:${snippet.line}`;
    it(`${where} runs and exits with status 0`, async () => {
      const name = where.replace(/[^a-zA-Z0-9]+/g, '-');
      const path = join(snippetDir, `${name}.mts`);
      writeFileSync(path, `${snippet.code}\n`);
      const result = await run(path, exitWithinMs);
      assert.equal(
        result.timedOut,
        false,
        `${where} did not exit within ${exitWithinMs / 1000} s (does it close what it opens?)\n${result.output}`,
      );
      assert.equal(result.code, 0, `${where} exited with ${result.code}\n${result.output}`);
    });
  }
});
