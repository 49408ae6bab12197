// The driver's handle on the target process (target.ts): starts it (an IpcChild), asks it for memory, CPU and stream
// figures, waits for its streams to settle, tells it to push, stops it, and notices when it dies.
import { type ChildExit, describeExit, IpcChild } from './ipc-child.js';
import type { DriverMessage, TargetMessage, TargetOptions, TargetStats } from './target-protocol.js';

/** A running target. */
export interface TargetProcess {
  readonly pid: number;
  readonly grpcPort: number;
  readonly restPort: number;
  /** The Node version the target runs on (`v24.22.3`). */
  readonly node: string;
  /** Resolves when the process exits, for whatever reason. */
  readonly exited: Promise<ChildExit>;
  /** The process has exited. */
  readonly dead: boolean;
  /** Memory, streams, CPU and version now; `gc` collects first. Rejects after `timeoutMs` (the target is stuck). */
  stats(gc: boolean, timeoutMs?: number): Promise<TargetStats>;
  /** Resolves with the figures once at most `atMost` streams are open, or after `timeoutMs` with those then. */
  settle(atMost: number, timeoutMs: number): Promise<TargetStats>;
  /** Pushes a changed snapshot now; resolves with its version. */
  push(timeoutMs?: number): Promise<string>;
  /** The last few KiB the process wrote to stderr. */
  stderrTail(): string;
  /** Stops the server and the process (killing it after a grace period). */
  stop(): Promise<ChildExit>;
}

/** Starts a target and resolves once it listens. */
export function startTarget(options: TargetOptions, heapMiB = 1024): Promise<TargetProcess> {
  return new Promise((resolve, reject) => {
    const child: IpcChild<DriverMessage, TargetMessage> = new IpcChild(
      './target.ts',
      [JSON.stringify(options)],
      ['--expose-gc', `--max-old-space-size=${heapMiB}`],
      (message) => {
        if (message.type !== 'ready') return;
        resolve({
          pid: child.pid,
          grpcPort: message.grpcPort,
          restPort: message.restPort,
          node: message.node,
          exited: child.exited,
          get dead() {
            return child.dead;
          },
          stats: async (gc, timeoutMs = 30_000) =>
            (await child.request({ type: 'stats', gc }, timeoutMs)) as TargetStats,
          settle: async (atMost, timeoutMs) =>
            (await child.request({ type: 'settle', atMost, timeoutMs }, timeoutMs + 30_000)) as TargetStats,
          push: async (timeoutMs = 30_000) =>
            ((await child.request({ type: 'push' }, timeoutMs)) as { version: string }).version,
          stderrTail: () => child.stderrTail(),
          stop: () => child.stop({ type: 'stop' }),
        });
      },
      options.node,
    );
    void child.exited.then((exit) =>
      reject(
        new Error(`the target exited before it was ready (${describeExit(exit)}):\n${child.stderrTail()}`),
      ),
    );
  });
}
