// What a fuzz run counts as it goes: cases by kind with how long they took (where a run's time goes), the gRPC and
// HTTP statuses seen, resets, refusals and late calls; and the figures the summary prints (cases/s, CPU per case,
// the machine's load). Counting only: the properties are checked by the harness.
import { loadavg } from 'node:os';
import type { CallResult } from './run-case.js';

/** How long the cases of one kind took (ms, wall clock, from the first byte to the last call's end). */
export interface KindFigures {
  readonly cases: number;
  readonly meanMs: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** The counts of a run. */
export interface RunCounts {
  readonly kinds: Record<string, KindFigures>;
  readonly grpcStatuses: Record<string, number>;
  readonly httpStatuses: Record<string, number>;
  /** Streams the server reset (or whose connection it closed) without a gRPC status. */
  readonly serverResets: number;
  /** Calls the client library refused to send. */
  readonly refused: number;
  /** Calls that ended after the late deadline (a slow machine or a slow server; not a failure). */
  readonly lateCalls: number;
  /** The 1-minute load average, sampled every few seconds: mean and highest. */
  readonly load: { readonly mean: number; readonly max: number };
}

function bump(table: Record<string, number>, key: string | number): void {
  table[key] = (table[key] ?? 0) + 1;
}

/** The nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** The running counts. */
export class RunFigures {
  readonly #durations = new Map<string, number[]>();
  readonly #grpc: Record<string, number> = {};
  readonly #http: Record<string, number> = {};
  #resets = 0;
  #refused = 0;
  #late = 0;
  #loads: number[] = [];

  /** Counts a finished case. */
  record(kind: string, durationMs: number, calls: readonly CallResult[]): void {
    let list = this.#durations.get(kind);
    if (list === undefined) {
      list = [];
      this.#durations.set(kind, list);
    }
    list.push(durationMs);
    for (const call of calls) {
      if (call.status !== undefined) bump(this.#grpc, call.status);
      if (call.http !== undefined) bump(this.#http, call.http);
      if (call.reset) this.#resets++;
      if (call.refused !== undefined) this.#refused++;
      if (call.late) this.#late++;
    }
  }

  /** Samples the machine's load average (call it every few seconds). */
  sampleLoad(): void {
    this.#loads.push(loadavg()[0] ?? 0);
  }

  get lateCalls(): number {
    return this.#late;
  }

  counts(): RunCounts {
    const kinds: Record<string, KindFigures> = {};
    for (const [kind, list] of [...this.#durations].sort((a, b) => b[1].length - a[1].length)) {
      const sorted = [...list].sort((a, b) => a - b);
      kinds[kind] = {
        cases: sorted.length,
        meanMs: sorted.reduce((n, x) => n + x, 0) / sorted.length,
        p99Ms: percentile(sorted, 99),
        maxMs: sorted[sorted.length - 1]!,
      };
    }
    const loads = this.#loads.length > 0 ? this.#loads : [loadavg()[0] ?? 0];
    return {
      kinds,
      grpcStatuses: { ...this.#grpc },
      httpStatuses: { ...this.#http },
      serverResets: this.#resets,
      refused: this.#refused,
      lateCalls: this.#late,
      load: { mean: loads.reduce((n, x) => n + x, 0) / loads.length, max: Math.max(...loads) },
    };
  }
}
