// Runs of `resource_names` fields seen in recent SotW requests. An Envoy repeats its whole subscription in every
// ACK, and thousands of Envoys subscribe to the same names: a push to 10,000 streams brings back 10,000 requests
// holding the same 24 KB run of 1,000 names (bench scenario 1). Walking its 1,000 fields again for each costs more
// than the rest of the ACK; a run seen before is recognised by one comparison of bytes instead, and every request
// that repeats it carries the same (shared) buffer, so that the checks after the decoder compare by identity.
//
// Rule L1: only bytes equal to a run the full scan accepted are taken this way (same bytes, same fields), and a
// run is remembered as a copy (never a view into a request the client could still change). Rule L2: at most
// `maxRuns` runs and `maxRunBytes` bytes each are kept.

import type { KeptNames, NamesSummary } from './lazy-names.js';

/** The scan's summary of a run's names (see sotw-request.ts). */
export type RunSummary = NamesSummary;

/**
 * A run of `resource_names` fields the scan accepted: its bytes (a copy, never changed) and what it found. A
 * request that repeats it holds it as its names (`shared`: the same buffer for every such request).
 */
export interface KnownRun extends KeptNames {
  readonly shared: true;
  /** True when every tag and length in the run is one byte. */
  readonly oneByte: boolean;
}

const maxRuns = 4;
const maxRunBytes = 4 * 1024 * 1024;
/** Remembered runs, most recently matched first. */
const runs: KnownRun[] = [];
/** Fingerprints of runs seen once: a run is copied only when it comes again (a subscription of one stream is not). */
const seenOnce: number[] = [];
const maxSeenOnce = 16;

/** A cheap fingerprint of a run: its length and about 64 sampled bytes. */
function fingerprint(bytes: Uint8Array, start: number, end: number): number {
  const length = end - start;
  let hash = Math.imul(2166136261 ^ length, 16777619);
  const step = Math.max(1, Math.floor(length / 64));
  for (let i = start; i < end; i += step) hash = Math.imul(hash ^ bytes[i]!, 16777619);
  for (let i = Math.max(start, end - 16); i < end; i++) hash = Math.imul(hash ^ bytes[i]!, 16777619);
  return hash >>> 0;
}

/** The remembered run that `bytes` repeat at `at`, if any. */
export function knownRunAt(bytes: Buffer, at: number): KnownRun | undefined {
  const left = bytes.length - at;
  for (let i = 0; i < runs.length; i++) {
    const run = runs[i]!;
    const length = run.bytes.length;
    if (length > left || run.bytes[0] !== bytes[at] || run.bytes[length - 1] !== bytes[at + length - 1])
      continue;
    if (run.bytes.compare(bytes, at, at + length) !== 0) continue;
    if (i > 0) {
      runs.splice(i, 1);
      runs.unshift(run);
    }
    return run;
  }
  return undefined;
}

/**
 * A run the scan accepted (`bytes[start, end)`, valid UTF-8); remembered (copied) the second time it is seen.
 * Returns the remembered run when it is, for the request to carry its shared bytes.
 */
export function sawRun(
  bytes: Buffer,
  start: number,
  end: number,
  summary: RunSummary,
  oneByte: boolean,
): KnownRun | undefined {
  if (end - start > maxRunBytes) return undefined;
  const print = fingerprint(bytes, start, end);
  const index = seenOnce.indexOf(print);
  if (index < 0) {
    seenOnce.unshift(print);
    if (seenOnce.length > maxSeenOnce) seenOnce.length = maxSeenOnce;
    return undefined;
  }
  seenOnce.splice(index, 1);
  const copy = Buffer.allocUnsafeSlow(end - start);
  bytes.copy(copy, 0, start, end);
  const run: KnownRun = { bytes: copy, summary, shared: true, oneByte };
  runs.unshift(run);
  if (runs.length > maxRuns) runs.length = maxRuns;
  return run;
}
