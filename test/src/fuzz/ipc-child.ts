// A child process of the fuzz driver (the target, the bystander), started with fork() under tsx and spoken to over
// its IPC channel: requests carry an id and get one reply each, within a timeout; other messages go to a listener.
// It notices when the child dies and keeps the end of its stderr for the report. Only this module starts or ends
// the driver's children, by their own PIDs.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** How a child process ended. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A message to or from a child: a `type`, and an `id` when it is a request or the reply to one. */
export interface ChildMessage {
  readonly type: string;
  readonly id?: number;
}

/** A message without its `id` (the request adds one), for each member of a union. */
export type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

const tailBytes = 8192;

/** A running child process. */
export class IpcChild<Out extends ChildMessage, In extends ChildMessage> {
  readonly #child: ChildProcess;
  readonly #waiting = new Map<number, (message: In) => void>();
  #nextId = 0;
  #tail = '';
  #dead = false;
  /** Resolves when the process exits, for whatever reason. */
  readonly exited: Promise<ChildExit>;

  /**
   * Forks `module` (a .ts file next to this one) with `args`; `onMessage` gets every message that is not a reply
   * (a `ready`, an event). `execPath`: the Node executable that runs it (default: this process's).
   */
  constructor(
    module: string,
    args: string[],
    execArgv: string[],
    onMessage: (message: In) => void,
    execPath: string = process.execPath,
  ) {
    this.#child = fork(fileURLToPath(new URL(module, import.meta.url)), args, {
      execPath,
      execArgv: ['--import', 'tsx', ...execArgv],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
    });
    // Writing to the IPC channel of a child that just died fails with EPIPE: the exit is what reports it.
    this.#child.on('error', () => {});
    this.#child.stderr?.on('data', (chunk: Buffer) => {
      this.#tail = (this.#tail + chunk.toString('utf8')).slice(-tailBytes);
    });
    this.exited = new Promise((resolve) =>
      this.#child.once('exit', (code, signal) => {
        this.#dead = true;
        resolve({ code, signal });
      }),
    );
    this.#child.on('message', (message: In) => {
      const reply = message.id === undefined ? undefined : this.#waiting.get(message.id);
      if (reply === undefined) {
        onMessage(message);
        return;
      }
      this.#waiting.delete(message.id!);
      reply(message);
    });
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  /** The process has exited. */
  get dead(): boolean {
    return this.#dead;
  }

  /** The last few KiB the process wrote to stderr. */
  stderrTail(): string {
    return this.#tail;
  }

  /** Sends a request and resolves with its reply; rejects after `timeoutMs` or when the child exits. */
  request(message: WithoutId<Out>, timeoutMs: number): Promise<In> {
    return new Promise((resolve, reject) => {
      if (this.#dead) {
        reject(new Error('the process has exited'));
        return;
      }
      const id = ++this.#nextId;
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new Error(`no answer to "${message.type}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      void this.exited.then(() => {
        if (!this.#waiting.delete(id)) return;
        clearTimeout(timer);
        reject(new Error('the process exited'));
      });
      this.#child.send({ ...message, id }, (error) => {
        if (error === null || !this.#waiting.delete(id)) return;
        clearTimeout(timer);
        reject(new Error(`the process did not take "${message.type}": ${error.message}`));
      });
    });
  }

  /** Sends a message that gets no reply. */
  send(message: Out): void {
    if (!this.#dead) this.#child.send(message, () => {});
  }

  /** Asks the child to stop with `message`, and kills it (SIGKILL, by its PID) if it has not exited after `graceMs`. */
  async stop(message: Out, graceMs = 5000): Promise<ChildExit> {
    if (this.#dead) return this.exited;
    this.send(message);
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }
}

/** "exit code 1", "signal SIGKILL". */
export function describeExit(exit: ChildExit): string {
  return exit.signal !== null ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}
