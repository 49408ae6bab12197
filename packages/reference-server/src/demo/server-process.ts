import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ChildLines, type JsonLine } from './child-lines.js';

/** The built `xds-server` command. */
export const binPath = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));

/** A running `xds-server` child process. */
export interface ServerProcess {
  readonly process: ChildLines;
  /** The bound xDS address (`127.0.0.1:PORT`). */
  readonly xdsAddress: string;
  /** The bound admin address. */
  readonly adminAddress: string;
  /** The JSON log lines so far. */
  readonly logs: JsonLine[];
}

/**
 * Starts the real `dist/bin.js` with `args` (add `--xds 127.0.0.1:0 --admin 127.0.0.1:0` for free ports) and
 * resolves once it logs that it started, with the addresses it bound.
 */
export async function startServerProcess(
  args: readonly string[],
  options: { readonly timeoutMs?: number; readonly onLine?: (line: JsonLine) => void } = {},
): Promise<ServerProcess> {
  if (!existsSync(binPath))
    throw new Error(`${binPath} is missing: build the package first (pnpm run build)`);
  const child = ChildLines.spawn({
    args: [binPath, ...args],
    ...(options.onLine === undefined ? {} : { onLine: options.onLine }),
  });
  try {
    const started = await child.waitFor(
      (line) => typeof line['xds'] === 'string' && typeof line['admin'] === 'string',
      // a deadline, not a wait: a loaded CI machine has taken more than 15 s to start node and load the bundle
      options.timeoutMs ?? 180_000,
    );
    return {
      process: child,
      xdsAddress: started['xds'] as string,
      adminAddress: started['admin'] as string,
      logs: child.lines,
    };
  } catch (error) {
    await child.stop('SIGKILL');
    throw error;
  }
}
