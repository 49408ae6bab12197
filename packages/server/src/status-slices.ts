/**
 * Slices for long work on the event loop (rule L2: one client's request must not stall the others): a CSDS answer
 * over 100,000 names takes some hundred milliseconds of CPU; built in one go, it delays every other stream's
 * responses by that much. The work asks `due()` (cheap: it reads the clock every 64 calls) and, when a slice has
 * run its time, awaits `pause()`, which lets pending I/O and timers run first.
 */
import { performance } from 'node:perf_hooks';
import { Code, XdsError } from '@xds/api';

/** A running slice of work. */
export interface StatusSlices {
  /** True when the slice has run its time: await `pause()` now. */
  due(): boolean;
  /** Gives way to other work; rejects (CANCELLED) when the caller has left. */
  pause(): Promise<void>;
}

/** Slices of at most `sliceMs`; `abandoned` ends the work at its next pause. */
export function statusSlices(sliceMs: number, abandoned?: () => boolean): StatusSlices {
  let start = performance.now();
  let calls = 0;
  return {
    due() {
      if (++calls % 64 !== 0) return false;
      return performance.now() - start >= sliceMs;
    },
    async pause() {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (abandoned?.() === true) throw new XdsError(Code.Cancelled, 'the CSDS caller left');
      start = performance.now();
    },
  };
}
