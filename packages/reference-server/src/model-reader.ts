// Reads and checks changed model files in a worker thread (rules L2 and L4), so that a large or hostile file costs
// the worker, not the event loop that answers xDS and admin requests. The worker's heap is capped (resourceLimits)
// and a timeout terminates it; either way the result is a config error naming the limit. The worker is kept for the
// next change (starting one costs more than reading a typical model) and let go once idle, to give back its memory.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import type { ModelLimits } from '@xds/generator/model';
import type { ReadResult } from './model-read.js';
import type { ModelWorkerMessage, ModelWorkerRequest } from './model-worker.js';

/** Options of {@link ModelReader}. */
export interface ModelReaderOptions {
  /** Stop the worker when one read takes longer than this (ms). */
  readonly timeoutMs: number;
  /** The worker's heap limit (MiB). */
  readonly maxHeapMiB: number;
  /** Let the worker go after this long without a read (ms); default 10,000. */
  readonly idleMs?: number;
}

/** One read: the file, its limits, the digests already handled, and what to call once a new text is read. */
export interface ModelReadRequest {
  readonly file: string;
  readonly limits: ModelLimits;
  /** Digests of texts already handled: such a text comes back as `known`, unparsed. */
  readonly known?: readonly string[];
  /** Called with the digest of a text that is not `known`, once the worker has read it and starts checking it. */
  readonly onChecking?: (digest: string) => void;
  /** Stops the read (and the worker); the result is then `cancelled`. */
  readonly signal?: AbortSignal;
}

/** A {@link ReadResult}, or `cancelled` when the signal stopped the read or the reader was closed. */
export type WorkerReadResult = ReadResult | { readonly kind: 'cancelled' };

// The worker runs this package's own module: model-worker.js when built, model-worker.ts under tsx (the tests). A
// worker does not inherit tsx's loader on Node 20, so for the .ts module a two-line bootstrap registers it first.
const entry = new URL(`./model-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);
const bootstrap = entry.pathname.endsWith('.ts')
  ? `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})` +
    `.then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`
  : undefined;

interface Pending {
  readonly id: number;
  readonly request: ModelReadRequest;
  readonly resolve: (result: WorkerReadResult) => void;
  readonly timer: NodeJS.Timeout;
  readonly abort: () => void;
  digest: string | undefined;
}

/** Reads model files in a worker thread, one at a time, bounded in time and memory. */
export class ModelReader {
  readonly #options: ModelReaderOptions;
  #worker: Worker | undefined;
  #pending: Pending | undefined;
  #idle: NodeJS.Timeout | undefined;
  #ids = 0;
  #closed = false;

  constructor(options: ModelReaderOptions) {
    this.#options = options;
  }

  /** Reads and checks a file; never rejects. Throws when a read is already running (reads are serialized). */
  read(request: ModelReadRequest): Promise<WorkerReadResult> {
    if (this.#pending !== undefined) throw new Error('ModelReader: one read at a time');
    if (this.#closed || request.signal?.aborted === true) return Promise.resolve({ kind: 'cancelled' });
    clearTimeout(this.#idle);
    const worker = this.#worker ?? this.#spawn();
    worker.ref();
    const id = ++this.#ids;
    return new Promise((resolve) => {
      const { timeoutMs } = this.#options;
      const timer = setTimeout(
        () =>
          this.#kill(
            `reading and checking the file took longer than ${timeoutMs.toLocaleString('en-US')} ms; the limit is reloadTimeoutMs`,
          ),
        timeoutMs,
      );
      const abort = () => this.#kill(undefined);
      request.signal?.addEventListener('abort', abort, { once: true });
      this.#pending = { id, request, resolve, timer, abort, digest: undefined };
      const message: ModelWorkerRequest = {
        id,
        file: request.file,
        limits: request.limits,
        ...(request.known === undefined ? {} : { known: request.known }),
      };
      worker.postMessage(message);
    });
  }

  /** Stops the worker; a read in progress comes back `cancelled`. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#idle);
    const worker = this.#worker;
    this.#worker = undefined;
    this.#settle({ kind: 'cancelled' });
    await worker?.terminate();
  }

  #spawn(): Worker {
    const options: WorkerOptions = {
      resourceLimits: {
        maxOldGenerationSizeMb: this.#options.maxHeapMiB,
        maxYoungGenerationSizeMb: 32,
        stackSizeMb: 4,
      },
    };
    const worker =
      bootstrap === undefined
        ? new Worker(entry, options)
        : new Worker(bootstrap, { ...options, eval: true });
    this.#worker = worker;
    worker.on('message', (message: ModelWorkerMessage) => {
      const pending = this.#pending;
      if (this.#worker !== worker || pending === undefined || message.id !== pending.id) return;
      if (message.type === 'result') {
        this.#settle(message.result);
      } else {
        pending.digest = message.digest;
        pending.request.onChecking?.(message.digest);
      }
    });
    worker.on('error', (error: Error & { code?: string }) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      this.#settle(
        this.#failed(
          error.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? `reading and checking the file needed more than ${this.#options.maxHeapMiB} MiB of memory; the limit is reloadHeapMiB`
            : `reading the file failed: ${error.message}`,
        ),
      );
    });
    worker.on('exit', (code) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      this.#settle(this.#failed(`the file's reader stopped (exit code ${code})`));
    });
    return worker;
  }

  /** Terminates the worker: the read in progress fails with `message`, or is cancelled when there is none. */
  #kill(message: string | undefined): void {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#settle(message === undefined ? { kind: 'cancelled' } : this.#failed(message));
    void worker?.terminate();
  }

  #failed(message: string): ReadResult {
    const file = this.#pending?.request.file ?? '';
    return { kind: 'errors', digest: this.#pending?.digest, errors: [{ file, path: '', message }] };
  }

  #settle(result: WorkerReadResult): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    this.#pending = undefined;
    clearTimeout(pending.timer);
    pending.request.signal?.removeEventListener('abort', pending.abort);
    const worker = this.#worker;
    if (worker !== undefined && !this.#closed) {
      // Idle: the worker must not keep the process alive, and goes after idleMs to give back its memory.
      worker.unref();
      this.#idle = setTimeout(() => {
        if (this.#worker === worker && this.#pending === undefined) this.#kill(undefined);
      }, this.#options.idleMs ?? 10_000);
      this.#idle.unref();
    }
    pending.resolve(result);
  }
}
