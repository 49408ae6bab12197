/**
 * The soak scenario's side of its worker process (soak-worker.ts, forked here): start it, send it commands and
 * read its replies, stop it. Kept apart from soak.ts, which drives the run.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import type { SoakCommand } from '../soak-worker.js';

/** A command without its id (the channel numbers it). */
export type Command = SoakCommand extends infer C
  ? C extends { id: number }
    ? Omit<C, 'id'>
    : never
  : never;

/** The soak worker process and its request/reply channel. */
export class SoakWorker {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, (reply: { ok: boolean; value?: unknown; error?: string }) => void>();
  #ids = 0;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (reply: { id: number; ok: boolean; value?: unknown; error?: string }) => {
      this.#pending.get(reply.id)?.(reply);
      this.#pending.delete(reply.id);
    });
  }

  static async start(root: string): Promise<SoakWorker> {
    const child = fork(join(root, 'bench/src/soak-worker.ts'), [], {
      execArgv: ['--import', 'tsx'],
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`soak worker exited (${code}) at start`)));
    });
    return new SoakWorker(child);
  }

  call<T>(command: Command): Promise<T> {
    const id = ++this.#ids;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, (reply) =>
        reply.ok ? resolve(reply.value as T) : reject(new Error(reply.error)),
      );
      this.#child.send({ ...command, id });
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#child.exitCode !== null) return resolve();
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 3000);
      this.#child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.#child.disconnect();
    });
  }
}
