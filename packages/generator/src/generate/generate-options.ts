import type { ResourceMemo } from './memo.js';

/** Options of the generators. */
export interface GenerateOptions {
  /** Where built resources are remembered for reuse; default a memo shared by the process. */
  readonly memo?: ResourceMemo;
}
