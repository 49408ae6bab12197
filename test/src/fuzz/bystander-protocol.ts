// The messages between the fuzz driver and its bystander process (bystander-main.ts), over Node's IPC channel.
import type { BystanderStats } from './bystander.js';

/** From the driver to the bystander process. */
export type ToBystander =
  /** Connect the bystander and the decoys (sent once, when the target listens). */
  | { readonly type: 'connect'; readonly address: string; readonly nodeId: string }
  /** Latency figures so far; `reset` starts a new series (the end of the baseline). */
  | { readonly type: 'stats'; readonly id: number; readonly reset: boolean }
  /** Answer once the bystander holds assignments of `version` or later, or with an error after `timeoutMs`. */
  | { readonly type: 'converge'; readonly id: number; readonly version: string; readonly timeoutMs: number }
  | { readonly type: 'stop' };

/** The bystander's health with its figures. */
export interface BystanderHealth extends BystanderStats {
  /** Milliseconds since its last assignment update. */
  readonly quietMs: number;
  /** Why its stream ended, if it did. */
  readonly ended?: string;
}

/** From the bystander process to the driver. */
export type FromBystander =
  /** The process loaded and waits for `connect`. */
  | { readonly type: 'loaded' }
  /** The bystander holds every assignment. */
  | { readonly type: 'ready' }
  | { readonly type: 'failed'; readonly message: string }
  | ({ readonly type: 'stats'; readonly id: number } & BystanderHealth)
  | { readonly type: 'converged'; readonly id: number; readonly error?: string };
