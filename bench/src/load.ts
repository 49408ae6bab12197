/**
 * The driver's side of the load generator: worker processes (load-worker.ts), each holding a share of the
 * clients and of the HTTP/2 connections, and the ACK logs they keep, merged with driver-wide client indexes.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nowMs } from './clock.js';
import type {
  ClientMode,
  LogReply,
  WaitReply,
  WorkerCommand,
  WorkerCounters,
  WorkerReply,
} from './load-protocol.js';

type Command = WorkerCommand extends infer C ? (C extends { id: number } ? Omit<C, 'id'> : never) : never;

/** What {@link Load.connect} opens. */
export interface ConnectOptions {
  readonly target: string;
  /** Servers to spread each worker's connections over, round-robin, instead of `target` (the tier's relays). */
  readonly targets?: readonly string[];
  readonly mode: ClientMode;
  /** One node id per client. */
  readonly nodes: readonly string[];
  /** Version numbers the clients NACK. */
  readonly nack?: readonly number[];
}

/** The merged ACK/NACK log; `client` indexes run over every worker's clients. */
export type AckLog = LogReply;

/** HTTP/2 connections for n clients: at least 100 (or n), about 100 streams each beyond 10,000 clients. */
export function connectionsFor(clients: number): number {
  return Math.min(clients, Math.max(100, Math.ceil(clients / 100)));
}

/** Load worker processes. */
export class Load {
  readonly #workers: ChildProcess[];
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #ids = 0;
  /** The first driver-wide client index of each worker, from the last connect. */
  #offsets: number[] = [];
  /** Clients connected. */
  clients = 0;

  private constructor(workers: ChildProcess[]) {
    this.#workers = workers;
    for (const worker of workers) {
      worker.on('message', (reply: WorkerReply) => {
        const waiter = this.#pending.get(reply.id);
        if (waiter === undefined) return;
        this.#pending.delete(reply.id);
        if (reply.ok) waiter.resolve(reply.value);
        else waiter.reject(new Error(`load worker: ${reply.error}`));
      });
      worker.on('exit', (code) => {
        for (const waiter of this.#pending.values()) waiter.reject(new Error(`load worker exited (${code})`));
        this.#pending.clear();
      });
    }
  }

  /** Forks `count` workers and waits until each is ready. */
  static async start(root: string, count: number): Promise<Load> {
    const workers = Array.from({ length: count }, () =>
      fork(join(root, 'bench/src/load-worker.ts'), [], {
        execArgv: [
          '--max-old-space-size=8192',
          ...(process.env['BENCH_PROF'] === 'workers'
            ? ['--cpu-prof', `--cpu-prof-dir=${join(tmpdir(), 'xds-bench-prof')}`]
            : []),
          '--import',
          'tsx',
        ],
        serialization: 'advanced',
        cwd: root,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            worker.once('message', () => resolve());
            worker.once('exit', (code) => reject(new Error(`load worker exited (${code}) at start`)));
          }),
      ),
    );
    return new Load(workers);
  }

  /** Opens the clients (all at once, spread over the workers); resolves the driver time just before. */
  async connect(options: ConnectOptions): Promise<number> {
    const n = options.nodes.length;
    const w = this.#workers.length;
    const connections = connectionsFor(n);
    this.#offsets = [];
    const t0 = nowMs();
    const started: Promise<unknown>[] = [];
    for (let i = 0; i < w; i++) {
      const from = Math.floor((i * n) / w);
      const to = Math.floor(((i + 1) * n) / w);
      this.#offsets.push(from);
      if (to === from) continue;
      started.push(
        this.#call(i, {
          cmd: 'connect',
          target: options.target,
          targets: options.targets ?? [options.target],
          mode: options.mode,
          nodes: options.nodes.slice(from, to),
          channels: Math.max(1, Math.round((connections * (to - from)) / n)),
          nack: options.nack ?? [],
        }),
      );
    }
    await Promise.all(started);
    this.clients = n;
    return t0;
  }

  /** Waits until every client has ACKed (or NACKed) each of `types` at `version` or later. */
  async wait(kind: 'ack' | 'nack', types: readonly number[], version: number, timeoutMs: number) {
    const replies = (await this.#all({ cmd: 'wait', kind, types, version, timeoutMs })) as WaitReply[];
    return { ok: replies.every((r) => r.ok), missing: replies.reduce((sum, r) => sum + r.missing, 0) };
  }

  /** The ACK/NACK logs of every worker, merged (worker by worker, each in arrival order). */
  async log(clear = false): Promise<AckLog> {
    const logs = (await this.#all({ cmd: 'log', clear })) as LogReply[];
    const length = logs.reduce((sum, l) => sum + l.client.length, 0);
    const out = {
      client: new Int32Array(length),
      type: new Uint8Array(length),
      version: new Int32Array(length),
      at: new Float64Array(length),
    };
    let offset = 0;
    for (const [i, l] of logs.entries()) {
      const base = this.#offsets[i] ?? 0;
      for (let j = 0; j < l.client.length; j++) out.client[offset + j] = l.client[j]! + base;
      out.type.set(l.type, offset);
      out.version.set(l.version, offset);
      out.at.set(l.at, offset);
      offset += l.client.length;
    }
    return out;
  }

  /** Each worker's CPU, memory and traffic. */
  counters(): Promise<WorkerCounters[]> {
    return this.#all({ cmd: 'counters' }) as Promise<WorkerCounters[]>;
  }

  /** Cancels every stream and closes every connection. */
  async disconnect(): Promise<void> {
    await this.#all({ cmd: 'close' });
    this.clients = 0;
  }

  /** Ends the worker processes. */
  async stop(): Promise<void> {
    await Promise.all(
      this.#workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.exitCode !== null) return resolve();
            const timer = setTimeout(() => worker.kill('SIGKILL'), 3000);
            worker.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            worker.disconnect();
          }),
      ),
    );
  }

  #all(command: Command): Promise<unknown[]> {
    return Promise.all(this.#workers.map((_, i) => this.#call(i, command)));
  }

  #call(worker: number, command: Command): Promise<unknown> {
    const id = ++this.#ids;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#workers[worker]!.send({ ...command, id });
    });
  }
}

/**
 * For each client, when it had ACKed every one of `types` at `version` or later (the latest of the first such
 * ACK of each type), minus its start time; NaN for a client that never did.
 */
export function convergence(
  log: AckLog,
  clients: number,
  types: readonly number[],
  version: number,
  startOf: (client: number) => number,
): Float64Array {
  const first = new Float64Array(clients * 4).fill(Number.NaN);
  for (let i = 0; i < log.client.length; i++) {
    const type = log.type[i]!;
    if (type & 0x80 || log.version[i]! < version) continue;
    const key = log.client[i]! * 4 + type;
    if (Number.isNaN(first[key]!)) first[key] = log.at[i]!;
  }
  const out = new Float64Array(clients);
  for (let c = 0; c < clients; c++) {
    let latest = Number.NEGATIVE_INFINITY;
    for (const t of types) latest = Math.max(latest, first[c * 4 + t]!);
    out[c] = latest - startOf(c);
  }
  return out;
}
