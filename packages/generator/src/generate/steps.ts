// Generation as a sequence of steps (rule L4: nothing a file or a registry holds may stall the server). A model at
// the limits generates 100,000 endpoints: built in one go, that kept the event loop for seconds, and every xDS
// client and /healthz waited. The generators are written once, as generator functions that yield after each unit
// of work (a resource, a service's parts); `runSteps` runs them to the end (the synchronous API), and
// `runSliced` runs them in time slices that give the event loop a turn between them (the asynchronous one).
import { performance } from 'node:perf_hooks';

/** Work that yields between units: run it with {@link runSteps} or {@link runSliced}. */
export type Steps<T> = Generator<void, T, void>;

/** Runs every step at once and returns the result (the synchronous API). */
export function runSteps<T>(steps: Steps<T>): T {
  for (;;) {
    const next = steps.next();
    if (next.done === true) return next.value;
  }
}

/** How {@link runSliced} divides the work. */
export interface SliceOptions {
  /** The longest a slice runs before the event loop gets a turn (ms); default {@link defaultSliceMs}. */
  readonly sliceMs?: number;
  /** Stops the work at its next pause, rejecting with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
  /** Called at each pause, before the event loop's turn (tests count them). */
  readonly onPause?: () => void;
}

/** The default slice: long enough that pausing costs little, short enough that no one waits long. */
export const defaultSliceMs = 5;

/** Gives the event loop a turn: timers, I/O and other requests run before this resolves. */
export function pause(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Runs `steps` in slices of about `sliceMs` (one unit of work may run past it), each inside `slice` (the memo's
 * generation), pausing for the event loop between them. Rejects with the signal's reason when it is aborted (the
 * steps are left where they are: nothing they built is set anywhere).
 */
export async function runSliced<T>(
  steps: Steps<T>,
  options: SliceOptions = {},
  slice: <R>(work: () => R) => R = (work) => work(),
): Promise<T> {
  const sliceMs = Math.max(0, options.sliceMs ?? defaultSliceMs);
  const signal = options.signal;
  const run = (): IteratorResult<void, T> => {
    const start = performance.now();
    for (;;) {
      const next = steps.next();
      if (next.done === true || performance.now() - start >= sliceMs) return next;
    }
  };
  try {
    for (;;) {
      signal?.throwIfAborted();
      const next = slice(run);
      if (next.done === true) return next.value;
      options.onPause?.();
      await pause();
    }
  } finally {
    steps.return(undefined as never);
  }
}
