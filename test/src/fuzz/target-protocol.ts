// The messages between the fuzz driver and its target process (target.ts), over Node's IPC channel.

/** How the driver starts the target. */
export interface TargetOptions {
  /** Milliseconds between pushes of a changed snapshot. */
  readonly pushMs: number;
  /** The bystander's node id (it gets a snapshot too). */
  readonly bystanderNode: string;
  /** The server's `limits.firstRequestTimeoutMs` (short, so that header-only streams end within a case). */
  readonly firstRequestTimeoutMs: number;
  /** The server's `limits.drainTimeoutMs` (short, so that streams that never read end within a case). */
  readonly drainTimeoutMs: number;
  /**
   * Collect the young generation this often (ms), to make a crash in a collector's callback (the Node 20
   * `Http2Session` abort, docs/fuzzing.md) come sooner in a replay; absent: only V8's own collections.
   */
  readonly gcEveryMs?: number;
  /** The Node executable that runs the target (`--node`, node-binary.ts); absent: the driver's own. */
  readonly node?: string;
}

/** From the driver to the target. */
export type DriverMessage =
  | { readonly type: 'stats'; readonly id: number; readonly gc: boolean }
  | { readonly type: 'push'; readonly id: number }
  /** Answer (with stats) once at most `atMost` streams are open, or after `timeoutMs` with what is open then. */
  | { readonly type: 'settle'; readonly id: number; readonly atMost: number; readonly timeoutMs: number }
  | { readonly type: 'stop' };

/** The target's state, as the driver checks it. */
export interface TargetStats {
  /** V8 heap in use (bytes), after three collections when asked. */
  readonly heapUsed: number;
  /** Resident memory (bytes). */
  readonly rss: number;
  /** Open xDS streams. */
  readonly streams: number;
  /** Keys the cache holds (snapshots or watches). */
  readonly cacheKeys: number;
  /** Response bytes written and not flushed. */
  readonly bytesInFlight: number;
  /** The version of the latest push. */
  readonly version: string;
  /** CPU time the process has used (user + system, ms). */
  readonly cpuMs: number;
  /**
   * The latest connections Node ended on an error (`connectionStats().errors.recent`: time, peer, code, message),
   * which end every stream on them without a status (docs/fuzzing.md, finding 7).
   */
  readonly connectionErrors: readonly string[];
}

/** From the target to the driver. */
export type TargetMessage =
  | {
      readonly type: 'ready';
      readonly grpcPort: number;
      readonly restPort: number;
      readonly version: string;
      /** The Node version the target runs on (`v24.22.3`). */
      readonly node: string;
    }
  | ({ readonly type: 'stats'; readonly id: number } & TargetStats)
  | { readonly type: 'pushed'; readonly id: number; readonly version: string };
