// The driver's handle on the target process (target.ts): starts it with fork() under tsx, asks it for memory and
// stream figures, tells it to push, stops it, and notices when it dies, keeping the end of its stderr for the
// report. Only this module starts or ends the target, by its own PID.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DriverMessage, TargetMessage, TargetOptions, TargetStats } from './target-protocol.js';

/** How the target process ended. */
export interface TargetExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running target. */
export interface TargetProcess {
  readonly pid: number;
  readonly grpcPort: number;
  readonly restPort: number;
  /** Resolves when the process exits, for whatever reason. */
  readonly exited: Promise<TargetExit>;
  /** The process has exited. */
  readonly dead: boolean;
  /** Memory, streams and version now; `gc` collects first. Rejects after `timeoutMs` (the target is stuck). */
  stats(gc: boolean, timeoutMs?: number): Promise<TargetStats>;
  /** Pushes a changed snapshot now; resolves with its version. */
  push(timeoutMs?: number): Promise<string>;
  /** The last few KiB the process wrote to stderr. */
  stderrTail(): string;
  /** Stops the server and the process (killing it after a grace period). */
  stop(): Promise<TargetExit>;
}

const targetPath = fileURLToPath(new URL('./target.ts', import.meta.url));
const tailBytes = 8192;

/** Starts a target and resolves once it listens. */
export function startTarget(options: TargetOptions, heapMiB = 1024): Promise<TargetProcess> {
  const child: ChildProcess = fork(targetPath, [JSON.stringify(options)], {
    execArgv: ['--import', 'tsx', '--expose-gc', `--max-old-space-size=${heapMiB}`],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
  });
  let tail = '';
  // Writing to the IPC channel of a target that just died fails with EPIPE: the exit is what reports it.
  child.on('error', () => {});
  child.stderr?.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-tailBytes);
  });
  let dead = false;
  const exited = new Promise<TargetExit>((resolve) =>
    child.once('exit', (code, signal) => {
      dead = true;
      resolve({ code, signal });
    }),
  );
  let nextId = 0;
  const waiting = new Map<number, (message: TargetMessage) => void>();
  const request = <T>(
    message: DriverMessage & { id: number },
    timeoutMs: number,
    pick: (m: TargetMessage) => T,
  ) =>
    new Promise<T>((resolve, reject) => {
      if (dead) {
        reject(new Error('the target process has exited'));
        return;
      }
      const timer = setTimeout(() => {
        waiting.delete(message.id);
        reject(new Error(`the target did not answer "${message.type}" within ${timeoutMs} ms`));
      }, timeoutMs);
      waiting.set(message.id, (reply) => {
        clearTimeout(timer);
        resolve(pick(reply));
      });
      void exited.then(() => {
        if (!waiting.delete(message.id)) return;
        clearTimeout(timer);
        reject(new Error('the target process exited'));
      });
      child.send(message, (error) => {
        if (error === null || !waiting.delete(message.id)) return;
        clearTimeout(timer);
        reject(new Error(`the target did not take "${message.type}": ${error.message}`));
      });
    });

  return new Promise((resolve, reject) => {
    const onExit = (exit: TargetExit) =>
      reject(new Error(`the target exited before it was ready (${describeExit(exit)}):\n${tail}`));
    void exited.then(onExit);
    child.on('message', (message: TargetMessage) => {
      if (message.type === 'ready') {
        resolve({
          pid: child.pid!,
          grpcPort: message.grpcPort,
          restPort: message.restPort,
          exited,
          get dead() {
            return dead;
          },
          stats: (gc, timeoutMs = 30_000) =>
            request({ type: 'stats', id: ++nextId, gc }, timeoutMs, (m) => m as TargetStats),
          push: (timeoutMs = 30_000) =>
            request({ type: 'push', id: ++nextId }, timeoutMs, (m) => (m as { version: string }).version),
          stderrTail: () => tail,
          async stop() {
            if (!dead) {
              child.send({ type: 'stop' } satisfies DriverMessage, () => {});
              const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
              const exit = await exited;
              clearTimeout(timer);
              return exit;
            }
            return exited;
          },
        });
        return;
      }
      waiting.get(message.id)?.(message);
      waiting.delete(message.id);
    });
  });
}

/** "exit code 1", "signal SIGKILL". */
export function describeExit(exit: TargetExit): string {
  return exit.signal !== null ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}
