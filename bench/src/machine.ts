/** The machine and toolchain a run happened on, and building the Go peer. */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

/** A description of the machine for the results file and the README. */
export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly go: string | undefined;
}

/** The installed Go version line, or undefined when go is not on PATH. */
export function goVersion(): string | undefined {
  const result = spawnSync('go', ['version'], { encoding: 'utf8', timeout: 30_000 });
  if (result.error !== undefined || result.status !== 0) return undefined;
  return result.stdout.trim();
}

export function describeMachine(go: string | undefined): Machine {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    os: `${process.platform} ${process.arch}`,
    node: process.version,
    go,
  };
}

/** Builds bench/go-peer into `<root>/.bench-go/go-peer`; returns an error message, or undefined on success. */
export function buildGoPeer(root: string, binary: string): string | undefined {
  mkdirSync(join(root, '.bench-go'), { recursive: true });
  const result = spawnSync('go', ['build', '-o', binary, '.'], {
    cwd: join(root, 'bench/go-peer'),
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (result.error !== undefined) return result.error.message;
  if (result.status !== 0) return (result.stderr || result.stdout).trim();
  return undefined;
}
