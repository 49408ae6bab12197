// Headless Chromium for the status-page test: scripts/ensure-chromium.mjs finds (or, as root on Debian, installs)
// it and runs the tests with CHROMIUM_PATH set.
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './test-support.js';

/** The Chromium binary: $CHROMIUM_PATH (set by scripts/ensure-chromium.mjs), else Debian's, if installed. */
export function chromiumPath(): string | undefined {
  const fromEnv = process.env['CHROMIUM_PATH'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));
}

/**
 * Loads a page in headless Chromium and returns its DOM after `budgetMs` of virtual time (the page's scripts and
 * timers run; the fetches they start finish). Optionally saves a screenshot of the same page.
 */
export async function dumpDom(url: string, options: { budgetMs?: number; screenshot?: string } = {}) {
  const chromium = chromiumPath();
  if (chromium === undefined)
    throw new Error(
      'no Chromium: run the tests with pnpm test (scripts/ensure-chromium.mjs finds it), or set CHROMIUM_PATH',
    );
  const profile = tempDir();
  const common = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--no-first-run',
    `--user-data-dir=${join(profile.dir, 'profile')}`,
    `--virtual-time-budget=${options.budgetMs ?? 3000}`,
  ];
  const run = (args: string[]) =>
    new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
      execFile(
        chromium,
        [...common, ...args],
        { timeout: 180_000, maxBuffer: 16 << 20 },
        (error, stdout, stderr) =>
          error
            ? reject(new Error(`chromium failed: ${error.message}\n${stderr}`))
            : resolve({ stdout, stderr }),
      );
    });
  try {
    if (options.screenshot !== undefined) {
      const { stderr } = await run([`--screenshot=${options.screenshot}`, '--window-size=1200,800', url]);
      // Chromium exits 0 without a file when it could not take the picture: say so here, with what it printed
      if (!existsSync(options.screenshot) || statSync(options.screenshot).size === 0)
        throw new Error(
          `chromium exited 0 but wrote no screenshot at ${options.screenshot}; its stderr:\n${stderr}`,
        );
    }
    return (await run(['--dump-dom', url])).stdout;
  } finally {
    profile.remove();
  }
}
