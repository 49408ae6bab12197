/**
 * Starting a bench peer (ours or go-control-plane) and talking to its control API. Both peers print one ready
 * line, `{"xds":"127.0.0.1:PORT","control":"127.0.0.1:PORT","pid":N}`, and exit when their stdin closes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** Which control plane a peer runs. */
export type PeerKind = 'ours' | 'go';

/** GET /stats of either peer (ours adds `encodes`, `streams`, `external`, `arrayBuffers`). */
export interface PeerStats {
  readonly heapAlloc: number;
  readonly heapInuse: number;
  readonly rssBytes: number;
  readonly cpuUserMs: number;
  readonly cpuSysMs: number;
  readonly responsesSent: number;
  readonly requests: number;
  readonly acks: number;
  readonly nacks: number;
  readonly bytesSent: number;
  readonly encodes?: number;
  /** Ours: `process.memoryUsage().external` and `.arrayBuffers` (bytes outside the V8 heap). */
  readonly external?: number;
  readonly arrayBuffers?: number;
  /** Ours: open xDS streams. */
  readonly streams?: number;
  /** Ours: response bytes written and not yet flushed (`XdsServer.writeBudget().unflushedBytes`). */
  readonly unflushedBytes?: number;
  /** Ours: streams ended for not reading within `limits.drainTimeoutMs` (rule S12), since start. */
  readonly drainTimeouts?: number;
}

/** The answer to POST /snapshot. */
export interface SnapshotReply {
  readonly ok: boolean;
  readonly resources?: number;
  /** Decode + set time inside the peer. */
  readonly ms?: number;
  readonly error?: string;
}

/** Where the repository root is, and the Go peer binary built from bench/go-peer. */
export interface PeerPaths {
  readonly root: string;
  readonly goBinary: string;
}

/**
 * The most resident memory a peer may use before the driver kills it, so that a peer that runs away (go-control-
 * plane resending 9.4 GB to 10,000 clients) fails its scenario instead of the machine: `BENCH_PEER_RSS_GB`, default
 * 60% of the machine's memory.
 */
export function peerRssLimitBytes(): number {
  const gb = Number(process.env['BENCH_PEER_RSS_GB']);
  return Number.isFinite(gb) && gb > 0 ? gb * 1024 ** 3 : Math.floor(totalmem() * 0.6);
}

/** The resident memory of a process from /proc (Linux); undefined elsewhere. */
function residentBytes(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

/** Another of our peer scripts to run instead of ours-peer.ts (the tier scenario's relay-peer.ts). */
export interface PeerLaunch {
  /** The script, relative to bench/src. */
  readonly script: string;
  /** The prefix of its log lines. */
  readonly label: string;
}

/** A running peer. */
export class Peer {
  readonly kind: PeerKind;
  readonly xds: string;
  readonly #control: string;
  readonly #child: ChildProcess;
  readonly #guard: NodeJS.Timeout;
  /** Why the driver killed the peer, if it did. */
  killed: string | undefined;
  /** The most resident memory seen by the guard (sampled every 250 ms). */
  peakRssBytes = 0;

  private constructor(kind: PeerKind, xds: string, control: string, child: ChildProcess) {
    this.kind = kind;
    this.xds = xds;
    this.#control = control;
    this.#child = child;
    const limit = peerRssLimitBytes();
    this.#guard = setInterval(() => {
      const rss = child.pid === undefined ? undefined : residentBytes(child.pid);
      if (rss === undefined) return;
      this.peakRssBytes = Math.max(this.peakRssBytes, rss);
      if (rss <= limit || this.killed !== undefined) return;
      this.killed = `${kind} peer killed by the bench at ${(rss / 1024 ** 3).toFixed(1)} GB RSS (limit ${(limit / 1024 ** 3).toFixed(1)} GB; BENCH_PEER_RSS_GB)`;
      process.stderr.write(`${this.killed}\n`);
      child.kill('SIGKILL');
    }, 250);
    this.#guard.unref();
    child.once('exit', () => clearInterval(this.#guard));
  }

  /**
   * Starts a peer and waits (at most 60 s) for its ready line. `oursArgs` go to our peer only (see ours-peer.ts;
   * the Go peer refuses flags it does not know); `launch` runs another of our scripts instead (relay-peer.ts).
   */
  static async start(
    kind: PeerKind,
    paths: PeerPaths,
    oursArgs: readonly string[] = [],
    launch?: PeerLaunch,
  ): Promise<Peer> {
    const args = ['--xds', '127.0.0.1:0', '--control', '127.0.0.1:0'];
    const label = launch?.label ?? kind;
    const child =
      kind === 'go'
        ? spawn(paths.goBinary, args, { stdio: ['pipe', 'pipe', 'inherit'] })
        : spawn(
            process.execPath,
            [
              '--expose-gc',
              '--max-old-space-size=12288',
              ...(process.env['BENCH_PROF'] === 'ours'
                ? ['--cpu-prof', `--cpu-prof-dir=${join(tmpdir(), 'xds-bench-prof')}`]
                : []),
              '--import',
              'tsx',
              join(paths.root, 'bench/src', launch?.script ?? 'ours-peer.ts'),
              ...args,
              ...oursArgs,
            ],
            { stdio: ['pipe', 'pipe', 'inherit'], cwd: paths.root },
          );
    const lines = createInterface({ input: child.stdout! });
    const ready = await new Promise<{ xds: string; control: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${label} peer: no ready line in 60 s`)), 60_000);
      child.once('exit', (code) => reject(new Error(`${label} peer exited (${code}) before it was ready`)));
      lines.once('line', (line) => {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(line) as { xds: string; control: string });
        } catch {
          reject(new Error(`${label} peer: bad ready line ${line}`));
        }
      });
    });
    lines.on('line', (line) => process.stderr.write(`[${label} peer] ${line}\n`));
    return new Peer(kind, ready.xds, ready.control, child);
  }

  /** POSTs a records body as node `node`'s snapshot at `version`; throws when the peer refuses it. */
  async setSnapshot(node: string, version: string, body: Uint8Array): Promise<SnapshotReply> {
    const query = `node=${encodeURIComponent(node)}&version=${encodeURIComponent(version)}`;
    const reply = (await this.#call('POST', `/snapshot?${query}`, body)) as SnapshotReply;
    if (!reply.ok) throw new Error(`${this.kind} peer refused snapshot ${version}: ${reply.error}`);
    return reply;
  }

  /** GET /stats. */
  stats(): Promise<PeerStats> {
    return this.#call('GET', '/stats') as Promise<PeerStats>;
  }

  /** Starts or stops (writing `file`) a CPU profile of our peer. */
  async profile(action: 'start' | 'stop', file = ''): Promise<void> {
    await this.#call('POST', `/profile?action=${action}&file=${encodeURIComponent(file)}`);
  }

  /** Writes a V8 heap snapshot of our peer to `file` (unless `heap` is false) and its memory map to `file.smaps`. */
  async heapSnapshot(file: string, heap = true): Promise<void> {
    await this.#call('POST', `/heap-snapshot?file=${encodeURIComponent(file)}&heap=${heap}`);
  }

  /** POST /gc: a full collection, then the stats. */
  gc(): Promise<PeerStats> {
    return this.#call('POST', '/gc') as Promise<PeerStats>;
  }

  /** Closes stdin (the peer exits), then SIGTERM after 3 s and SIGKILL after 6 s. */
  async stop(): Promise<void> {
    clearInterval(this.#guard);
    const child = this.#child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdin?.end();
    const term = setTimeout(() => child.kill('SIGTERM'), 3000);
    const kill = setTimeout(() => child.kill('SIGKILL'), 6000);
    await exited;
    clearTimeout(term);
    clearTimeout(kill);
  }

  #call(method: string, path: string, body?: Uint8Array): Promise<unknown> {
    const at = this.#control.lastIndexOf(':');
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.#control.slice(0, at),
          port: Number(this.#control.slice(at + 1)),
          method,
          path,
          headers: body === undefined ? {} : { 'content-length': body.length },
          // go-control-plane's SetSnapshot returns once every watch has taken its response: minutes at 10,000.
          timeout: 900_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            try {
              resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
            } catch (error) {
              reject(error);
            }
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${this.kind} peer: ${method} ${path} timed out`)));
      req.on('error', (error) => reject(this.killed === undefined ? error : new Error(this.killed)));
      req.end(body);
    });
  }
}

/** True when the Go peer binary exists. */
export function goPeerBuilt(paths: PeerPaths): boolean {
  return existsSync(paths.goBinary);
}
