import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A JSON object printed on one line of a child's stdout. */
export type JsonLine = Record<string, unknown>;

/** Options of {@link ChildLines.spawn}. */
export interface ChildLinesOptions {
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Called with each JSON line as it comes. */
  readonly onLine?: (line: JsonLine) => void;
  /** Start the child as the leader of a process group of its own, so its descendants can be killed with it. */
  readonly detached?: boolean;
}

/**
 * A Node child process whose stdout is JSON lines (pino logs, RPC results): keeps every line, lets a caller wait
 * for a line that matches with a deadline, and stops the child by its own pid.
 */
export class ChildLines {
  readonly child: ChildProcess;
  /** Every JSON line so far, oldest first. */
  readonly lines: JsonLine[] = [];
  /** stdout lines that were not JSON, and stderr. */
  readonly text: string[] = [];
  readonly #waiters = new Set<() => void>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(options: ChildLinesOptions) {
    this.child = spawn(process.execPath, [...options.args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.env === undefined ? {} : { env: options.env }),
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      ...(options.detached === true ? { detached: true } : {}),
    });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        resolve({ code, signal });
        this.#wake();
      });
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        parsed = undefined;
      }
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        this.lines.push(parsed as JsonLine);
        options.onLine?.(parsed as JsonLine);
      } else this.text.push(line);
      this.#wake();
    });
    createInterface({ input: this.child.stderr! }).on('line', (line) => this.text.push(line));
  }

  /** Starts `node ...args`. */
  static spawn(options: ChildLinesOptions): ChildLines {
    return new ChildLines(options);
  }

  /** True once the child has exited. */
  get done(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /**
   * The first line (from index `from` on) that matches, waiting up to `timeoutMs` for it; rejects with the
   * child's recent output when the deadline passes or the child exits first.
   */
  waitFor(predicate: (line: JsonLine) => boolean, timeoutMs: number, from = 0): Promise<JsonLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        for (let i = from; i < this.lines.length; i++) {
          const line = this.lines[i]!;
          if (predicate(line)) {
            finish();
            resolve(line);
            return;
          }
        }
        if (this.done) {
          finish();
          reject(new Error(`the child exited before the line came\n${this.tail()}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no matching line within ${timeoutMs} ms\n${this.tail()}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }

  /** The last lines of output, for error messages. */
  tail(count = 15): string {
    const json = this.lines.slice(-count).map((line) => JSON.stringify(line));
    return [...json, ...this.text.slice(-count)].join('\n');
  }

  /** Sends a signal (SIGTERM by default) and resolves with the exit; kills after `graceMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000) {
    if (!this.done) {
      this.child.kill(signal);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      timer.unref();
      const exit = await this.exited;
      clearTimeout(timer);
      return exit;
    }
    return this.exited;
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}
