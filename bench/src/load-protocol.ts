/** The messages between the driver (load.ts) and a load worker process (load-worker.ts). */

/** SotW or delta ADS clients. */
export type ClientMode = 'sotw' | 'delta';

/** Commands the driver sends; each carries an id that the reply repeats. */
export type WorkerCommand =
  | {
      readonly cmd: 'connect';
      readonly id: number;
      readonly target: string;
      /** The servers its connections go to, round-robin (`[target]` but for the tier scenario's relays). */
      readonly targets: readonly string[];
      readonly mode: ClientMode;
      /** The node id of each client of this worker. */
      readonly nodes: readonly string[];
      /** HTTP/2 connections (grpc-js channels) to spread the clients over. */
      readonly channels: number;
      /** Version numbers to NACK. */
      readonly nack: readonly number[];
    }
  | {
      readonly cmd: 'wait';
      readonly id: number;
      /** ACKs or NACKs. */
      readonly kind: 'ack' | 'nack';
      /** Type indexes (0 CDS, 1 EDS, 2 LDS, 3 RDS) every client must have answered. */
      readonly types: readonly number[];
      /** The version number each must have reached. */
      readonly version: number;
      readonly timeoutMs: number;
    }
  | { readonly cmd: 'log'; readonly id: number; readonly clear: boolean }
  | { readonly cmd: 'counters'; readonly id: number }
  | { readonly cmd: 'close'; readonly id: number };

/** The ACK/NACK log of a worker (see AckLog), client indexes local to the worker. */
export interface LogReply {
  readonly client: Int32Array;
  readonly type: Uint8Array;
  readonly version: Int32Array;
  readonly at: Float64Array;
}

/** A worker's own costs and traffic. */
export interface WorkerCounters {
  readonly responses: number;
  readonly bytes: number;
  readonly errors: number;
  readonly lastError: string;
  readonly cpuUserMs: number;
  readonly cpuSysMs: number;
  readonly rssBytes: number;
}

/** The result of a wait. */
export interface WaitReply {
  readonly ok: boolean;
  /** Clients that had not answered in time. */
  readonly missing: number;
}

/** A reply: `{ id, ok: true, value }` or `{ id, ok: false, error }`. */
export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string };
