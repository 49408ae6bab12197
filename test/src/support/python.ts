// gRPC C-core for the interop tests: Debian's python3-grpcio, installed by scripts/python/grpcio.sh when missing
// (apt-get; a clear failure when it cannot), and the Python scripts under test/python run with it.
import { execFile, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

let python: string | undefined;

/** The Python interpreter that imports grpc (C-core), provisioning it on first use; throws when it cannot. */
export function provisionPython(): string {
  if (python !== undefined) return python;
  const run = spawnSync('bash', [join(root, 'scripts', 'python', 'grpcio.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 600_000,
  });
  if (run.status !== 0)
    throw new Error(
      `scripts/python/grpcio.sh failed (exit ${run.status}): this test needs gRPC C-core for Python (Debian's python3-grpcio)`,
    );
  const path = run.stdout.trim().split('\n').pop();
  if (!path) throw new Error('scripts/python/grpcio.sh printed no interpreter');
  python = path;
  return path;
}

/**
 * Runs `test/python/<script>` with `args` in isolated mode (no user site, no PYTHON* variables) and parses the one
 * JSON line it prints last. Asynchronous, so that an in-process server keeps answering while it runs.
 */
export function runPythonScript<T>(
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs = 60_000,
): Promise<T> {
  const interpreter = provisionPython();
  return new Promise((resolve, reject) => {
    execFile(
      interpreter,
      ['-I', join(root, 'test', 'python', script), ...args],
      { env, timeout: timeoutMs, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const line = stdout.trim().split('\n').pop() ?? '';
        if (error !== null || !line.startsWith('{'))
          reject(new Error(`${script} failed: ${error?.message ?? 'no JSON line'}\n${stderr}\n${stdout}`));
        else resolve(JSON.parse(line) as T);
      },
    );
  });
}
