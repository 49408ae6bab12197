/**
 * SIGTERM and SIGINT while a command is still loading its modules. `xds-server` loads the xDS API, grpc-js and the
 * generator before it can parse its flags and start (a second or more on a busy machine); without a handler, a
 * signal in that window killed the process with 143 and nothing logged. The command's first act is to install
 * this handler, from a module that imports nothing but Node itself, so such a signal is logged (one JSON line in the
 * log's format, and one line on stderr) and the process exits 0: nothing was started, so there is nothing to drain.
 * `runCommand` (command.ts) takes over once the modules are loaded.
 */
import { writeSync } from 'node:fs';
import { hostname } from 'node:os';

/** Writes `text` to `fd`, ignoring a closed pipe: the exit must not depend on a reader. */
function write(fd: number, text: string): void {
  try {
    writeSync(fd, text);
  } catch {
    // stdout or stderr is gone: the exit code still tells
  }
}

/**
 * Catches SIGTERM and SIGINT until the returned function is called: a signal logs that `name` stops while loading,
 * and exits 0. Call the returned function right before installing the command's own handlers (same tick).
 */
export function catchEarlySignals(name: string): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    const line = {
      level: 30,
      time: new Date().toISOString(),
      pid: process.pid,
      hostname: hostname(),
      name,
      signal,
      msg: `${signal} while loading, before the start: exiting`,
    };
    write(process.stdout.fd ?? 1, `${JSON.stringify(line)}\n`);
    write(process.stderr.fd ?? 2, `${name}: ${signal} while loading, before the start: exiting\n`);
    process.exit(0);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}
