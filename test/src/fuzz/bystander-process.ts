// The driver's handle on the bystander process (bystander-main.ts): starts it, asks for its latency figures and
// health, waits for it to converge on a version, and stops it.
import type { BystanderHealth, FromBystander, ToBystander } from './bystander-protocol.js';
import { describeExit, IpcChild } from './ipc-child.js';

/** A running bystander process (the bystander and the decoys). */
export class BystanderProcess {
  readonly #child: IpcChild<ToBystander, FromBystander>;

  private constructor(child: IpcChild<ToBystander, FromBystander>) {
    this.#child = child;
  }

  /**
   * Starts the process (it loads while the target starts); `connect` then connects the bystander and the decoys to
   * `address` and resolves once the bystander holds every assignment.
   */
  static start(): {
    connect(address: string, nodeId: string): Promise<BystanderProcess>;
    /** Stops the process when the run cannot start. */
    abandon(): Promise<unknown>;
  } {
    let onReady: (() => void) | undefined;
    let onFailed: ((error: Error) => void) | undefined;
    const child: IpcChild<ToBystander, FromBystander> = new IpcChild(
      './bystander-main.ts',
      [],
      [],
      (message) => {
        if (message.type === 'ready') onReady?.();
        if (message.type === 'failed')
          onFailed?.(new Error(`the bystander did not connect: ${message.message}`));
      },
    );
    return {
      connect: (address, nodeId) =>
        new Promise((resolve, reject) => {
          onReady = () => resolve(new BystanderProcess(child));
          onFailed = reject;
          void child.exited.then((exit) =>
            reject(new Error(`the bystander process exited (${describeExit(exit)}):\n${child.stderrTail()}`)),
          );
          child.send({ type: 'connect', address, nodeId });
        }),
      abandon: () => child.stop({ type: 'stop' }),
    };
  }

  /** Its figures and health; `reset` starts a new latency series after them. */
  async health(reset = false, timeoutMs = 10_000): Promise<BystanderHealth> {
    if (this.#child.dead) throw new Error('the bystander process has exited');
    return (await this.#child.request({ type: 'stats', reset }, timeoutMs)) as BystanderHealth;
  }

  /** Resolves when the bystander holds assignments of `version` (or later); rejects after `timeoutMs`. */
  async converge(version: string, timeoutMs: number): Promise<void> {
    const reply = await this.#child.request({ type: 'converge', version, timeoutMs }, timeoutMs + 10_000);
    if (reply.type === 'converged' && reply.error !== undefined) throw new Error(reply.error);
  }

  /** Stops the process (its clients close first). */
  async stop(): Promise<void> {
    await this.#child.stop({ type: 'stop' });
  }
}
