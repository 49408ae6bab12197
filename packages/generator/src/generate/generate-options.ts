// The options every generator takes: where built resources are remembered, and whose generation this is, so
// that the memo keeps what the live models use and no more (rule R3: same objects, encoded once).
import type { MemoOwner, ResourceMemo } from './memo.js';

/** Options of the generators. */
export interface GenerateOptions {
  /** Where built resources are remembered for reuse; default a memo shared by the process. */
  readonly memo?: ResourceMemo;
  /**
   * What holds the result (a `SnapshotCache`…): the memo keeps what this owner's latest generation (per
   * {@link slot}) used, so that its next generation shares it, and lets go of what it stopped using. Without an
   * owner, what the generation built is only spare, kept while the memo's spare bounds allow.
   */
  readonly owner?: object;
  /** Which of the owner's results this is (a snapshot key, a flavour); default `''`. Needs {@link owner}. */
  readonly slot?: string;
}

/** The memo owner that `options` name, if any. */
export function memoOwner(options: GenerateOptions): MemoOwner | undefined {
  if (options.owner === undefined) return undefined;
  return options.slot === undefined ? { owner: options.owner } : { owner: options.owner, slot: options.slot };
}
