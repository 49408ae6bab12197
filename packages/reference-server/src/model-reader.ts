// Runs the reading and checking of a changed model file in a worker thread (rules L2 and L4), so that a large or
// hostile file costs the worker, not the event loop that answers xDS and admin requests. The worker's heap is
// capped (resourceLimits) and a timeout terminates it; either way the result is a config error naming the limit.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import type { ModelError } from '@xds/generator/model';
import type { ReadResult } from './model-read.js';
import type { ModelWorkerData, ModelWorkerMessage } from './model-worker.js';

/** Options of {@link readModelInWorker}. */
export interface WorkerReadOptions extends ModelWorkerData {
  /** Stop the worker after this long (ms). */
  readonly timeoutMs: number;
  /** The worker's heap limit (MiB). */
  readonly maxHeapMiB: number;
  /** Stops the worker; the result is then `cancelled`. */
  readonly signal?: AbortSignal;
  /** Called with the digest of a text that is not `known`, once the worker has read it and starts checking it. */
  readonly onChecking?: (digest: string) => void;
}

/** A {@link ReadResult}, or `cancelled` when the signal stopped the read. */
export type WorkerReadResult = ReadResult | { readonly kind: 'cancelled' };

// The worker runs this package's own module: model-worker.js when built, model-worker.ts under tsx (the tests). A
// worker does not inherit tsx's loader on Node 20, so for the .ts module a two-line bootstrap registers it first.
const entry = new URL(`./model-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);
const bootstrap = entry.pathname.endsWith('.ts')
  ? `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})` +
    `.then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`
  : undefined;

function startWorker(options: WorkerOptions): Worker {
  return bootstrap === undefined
    ? new Worker(entry, options)
    : new Worker(bootstrap, { ...options, eval: true });
}

/** Reads and checks a model file in a new worker thread, bounded in time and memory; never rejects. */
export function readModelInWorker(options: WorkerReadOptions): Promise<WorkerReadResult> {
  const { file, timeoutMs, maxHeapMiB, signal } = options;
  if (signal?.aborted === true) return Promise.resolve({ kind: 'cancelled' });
  const data: ModelWorkerData = {
    file,
    limits: options.limits,
    ...(options.known === undefined ? {} : { known: options.known }),
  };
  return new Promise((resolve) => {
    let digest: string | undefined;
    let settled = false;
    const worker = startWorker({
      workerData: data,
      resourceLimits: { maxOldGenerationSizeMb: maxHeapMiB, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
    });
    const failed = (message: string): ReadResult => ({
      kind: 'errors',
      digest,
      errors: [{ file, path: '', message } satisfies ModelError],
    });
    const settle = (result: WorkerReadResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
      resolve(result);
      void worker.terminate();
    };
    const timer = setTimeout(
      () =>
        settle(
          failed(
            `reading and checking the file took longer than ${timeoutMs.toLocaleString('en-US')} ms; the limit is reloadTimeoutMs`,
          ),
        ),
      timeoutMs,
    );
    const abort = () => settle({ kind: 'cancelled' });
    signal?.addEventListener('abort', abort, { once: true });
    worker.on('message', (message: ModelWorkerMessage) => {
      if (message.type === 'result') settle(message.result);
      else if (!settled) {
        digest = message.digest;
        options.onChecking?.(digest);
      }
    });
    worker.on('error', (error: Error & { code?: string }) => {
      settle(
        failed(
          error.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? `reading and checking the file needed more than ${maxHeapMiB} MiB of memory; the limit is reloadHeapMiB`
            : `reading the file failed: ${error.message}`,
        ),
      );
    });
    worker.on('exit', (code) => settle(failed(`the file's reader stopped (exit code ${code})`)));
  });
}
