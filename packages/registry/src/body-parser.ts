/**
 * Parses a registry's answers off the event loop (rule L4: nothing a registry answers may stall the server). A
 * Kubernetes list page (up to 4 MiB) took about 0.7 s of the event loop to parse, a Consul or Eureka answer (up to
 * 64 MiB) far more, and every xDS client and `/healthz` waited meanwhile. Now a body larger than `inlineParseBytes` is
 * handed to the registry's worker thread (its bytes transferred, not copied), which parses it, reduces it to what the
 * adapter keeps (parse-jobs.ts) and hands that back in chunks: the event loop takes one chunk per turn, so even the
 * cloning of a large result never holds it at once. The worker's heap (`parseHeapMiB`) and each parse's time
 * (`parseTimeoutMs`) are bounded: past either, or when the worker dies, the answer is a registry error naming the
 * bound (the registry keeps its last content, stale), never a crash; the next answer gets a new worker. The worker
 * does not keep the process alive and is let go once idle. Smaller bodies are parsed on the event loop with the same
 * code (a worker's round trip costs more than parsing them).
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { RegistryLimitError } from './http-body.js';
import { type OutputOf, type ParseJob, runJob } from './parse-jobs.js';
import type { ParseWorkerMessage, ParseWorkerRequest } from './parse-worker.js';

/** How a registry parses its server's answers (each adapter's `parse` option). */
export interface RegistryParseOptions {
  /** The most time one answer's parse may take in the worker, in ms; then the worker is stopped. Default 60,000. */
  readonly parseTimeoutMs: number;
  /** The worker's heap limit, in MiB; an answer that needs more stops it. Default 1,024. */
  readonly parseHeapMiB: number;
  /** Bodies up to this many bytes are parsed on the event loop (about a millisecond). Default 64 KiB. */
  readonly inlineParseBytes: number;
  /** The most items that cross from the worker in one chunk (one event loop turn each). Default 500. */
  readonly chunkItems: number;
  /** The worker is let go after this long without work, in ms. Default 10,000. */
  readonly idleMs: number;
}

/** The defaults of {@link RegistryParseOptions}. */
export const defaultParseOptions: RegistryParseOptions = Object.freeze({
  parseTimeoutMs: 60_000,
  parseHeapMiB: 1024,
  inlineParseBytes: 64 * 1024,
  chunkItems: 500,
  idleMs: 10_000,
});

/** What a {@link BodyParser} has done, for tests and the status page. */
export interface ParseCounts {
  /** Answers parsed on the event loop. */
  readonly inline: number;
  /** Answers parsed by the worker. */
  readonly worker: number;
  /** Chunks taken from the worker. */
  readonly chunks: number;
  /** Workers started. */
  readonly started: number;
  /** Parses that failed because the worker died, ran out of heap or time. */
  readonly failed: number;
}

// The worker runs this package's own module: parse-worker.js when built, parse-worker.ts under tsx (the tests). A
// worker does not inherit tsx's loader on Node 20, so for the .ts module a bootstrap registers it first.
const entry = new URL(`./parse-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);
const bootstrap = entry.pathname.endsWith('.ts')
  ? `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})` +
    `.then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`
  : undefined;

interface Job {
  readonly id: number;
  readonly job: ParseJob;
  readonly bytes: Uint8Array;
  readonly what: string;
  readonly resolve: (output: { meta: unknown; items: unknown[] }) => void;
  readonly reject: (error: Error) => void;
  meta: unknown;
  readonly items: unknown[];
  timer: NodeJS.Timeout | undefined;
}

/** One registry's parser: bodies past `inlineParseBytes` go to its worker thread, one at a time. */
export class BodyParser {
  readonly options: RegistryParseOptions;
  #worker: Worker | undefined;
  #running: Job | undefined;
  readonly #queue: Job[] = [];
  #idle: NodeJS.Timeout | undefined;
  #ids = 0;
  #closed = false;
  #counts = { inline: 0, worker: 0, chunks: 0, started: 0, failed: 0 };

  constructor(options: Partial<RegistryParseOptions> = {}) {
    const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
    this.options = { ...defaultParseOptions, ...given };
  }

  /** What it has done so far. */
  counts(): ParseCounts {
    return { ...this.#counts };
  }

  /**
   * Parses `bytes` (JSON) and runs `job` on it. A body past `inlineParseBytes` is transferred to the worker:
   * `bytes` is unusable after this call.
   * @throws RegistryLimitError naming `parseTimeoutMs` or `parseHeapMiB`; an Error naming `what` when the body is
   *   not JSON or not what the job reads, when the worker died, or when the parser was closed
   */
  parse<J extends ParseJob>(bytes: Uint8Array, job: J, what: string): Promise<OutputOf<J>> {
    if (this.#closed) return Promise.reject(new Error(`${what}: the registry stopped`));
    if (bytes.byteLength <= this.options.inlineParseBytes) {
      this.#counts.inline++;
      try {
        return Promise.resolve(runJob(job, JSON.parse(new TextDecoder().decode(bytes))));
      } catch (error) {
        return Promise.reject(
          notRead(what, error instanceof Error ? `${error.name}: ${error.message}` : error),
        );
      }
    }
    // the worker takes the bytes' own buffer: a view of a shared or larger one is copied first
    const own =
      bytes.byteOffset === 0 &&
      bytes.byteLength === bytes.buffer.byteLength &&
      !(bytes.buffer instanceof SharedArrayBuffer)
        ? bytes
        : new Uint8Array(bytes);
    return new Promise<OutputOf<J>>((resolve, reject) => {
      this.#queue.push({
        id: ++this.#ids,
        job,
        bytes: own,
        what,
        resolve: resolve as (output: { meta: unknown; items: unknown[] }) => void,
        reject,
        meta: undefined,
        items: [],
        timer: undefined,
      });
      this.#next();
    });
  }

  /** Stops the worker; parses in progress or waiting fail. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#idle);
    const worker = this.#worker;
    this.#worker = undefined;
    const stopped = new Error('the registry stopped');
    this.#fail(stopped);
    for (const job of this.#queue.splice(0)) job.reject(stopped);
    await worker?.terminate();
  }

  #next(): void {
    if (this.#running !== undefined || this.#closed) return;
    const job = this.#queue.shift();
    if (job === undefined) {
      this.#idleNow();
      return;
    }
    clearTimeout(this.#idle);
    const worker = this.#worker ?? this.#spawn();
    worker.ref();
    this.#running = job;
    this.#counts.worker++;
    const { parseTimeoutMs } = this.options;
    job.timer = setTimeout(
      () =>
        this.#kill(
          new RegistryLimitError(
            `${job.what}: parsing the answer took longer than ${parseTimeoutMs} ms, the limit (parseTimeoutMs)`,
          ),
        ),
      parseTimeoutMs,
    );
    const request: ParseWorkerRequest = {
      type: 'parse',
      id: job.id,
      job: job.job,
      bytes: job.bytes,
      chunkItems: this.options.chunkItems,
    };
    worker.postMessage(request, [job.bytes.buffer as ArrayBuffer]);
  }

  #spawn(): Worker {
    const options: WorkerOptions = {
      resourceLimits: {
        maxOldGenerationSizeMb: this.options.parseHeapMiB,
        maxYoungGenerationSizeMb: 32,
        stackSizeMb: 4,
      },
    };
    const worker =
      bootstrap === undefined
        ? new Worker(entry, options)
        : new Worker(bootstrap, { ...options, eval: true });
    this.#counts.started++;
    this.#worker = worker;
    worker.on('message', (message: ParseWorkerMessage) => {
      const job = this.#running;
      if (this.#worker !== worker || job === undefined || message.id !== job.id) return;
      if (message.type === 'failed') {
        this.#running = undefined;
        clearTimeout(job.timer);
        job.reject(notRead(job.what, message.message));
        this.#next();
        return;
      }
      // parsed: the time bound was for the parse; the chunks come as fast as the event loop takes them
      clearTimeout(job.timer);
      this.#counts.chunks++;
      if ('meta' in message) job.meta = message.meta;
      for (const item of message.items) job.items.push(item);
      if (message.done) {
        this.#running = undefined;
        job.resolve({ meta: job.meta, items: job.items });
        this.#next();
        return;
      }
      // the next chunk in a later turn of the event loop: what waits for it (I/O, timers) goes first
      setImmediate(() => {
        if (this.#worker === worker && this.#running === job) {
          const next: ParseWorkerRequest = { type: 'next', id: job.id };
          worker.postMessage(next);
        }
      });
    });
    worker.on('error', (error: Error & { code?: string }) => {
      if (this.#worker !== worker) return;
      const job = this.#running;
      this.#worker = undefined;
      this.#fail(
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new RegistryLimitError(
              `${job?.what ?? 'an answer'}: parsing the answer needed more than ${this.options.parseHeapMiB} MiB, the limit (parseHeapMiB)`,
            )
          : new Error(`${job?.what ?? 'an answer'}: the parse worker failed: ${error.message}`),
      );
      this.#next();
    });
    worker.on('exit', (code) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      this.#fail(
        new Error(`${this.#running?.what ?? 'an answer'}: the parse worker stopped (exit code ${code})`),
      );
      this.#next();
    });
    return worker;
  }

  /** Stops the worker: the parse in progress fails with `error`; the next one gets a new worker. */
  #kill(error: Error): void {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#fail(error);
    void worker?.terminate();
    this.#next();
  }

  #fail(error: Error): void {
    const job = this.#running;
    if (job === undefined) return;
    this.#running = undefined;
    clearTimeout(job.timer);
    if (!(error.message === 'the registry stopped')) this.#counts.failed++;
    job.reject(error);
  }

  /** No work: the worker must not keep the process alive, and goes after `idleMs` to give back its memory. */
  #idleNow(): void {
    const worker = this.#worker;
    if (worker === undefined) return;
    worker.unref();
    clearTimeout(this.#idle);
    this.#idle = setTimeout(() => {
      if (this.#worker === worker && this.#running === undefined) {
        this.#worker = undefined;
        void worker.terminate();
      }
    }, this.options.idleMs);
    this.#idle.unref();
  }
}

function notRead(what: string, why: unknown): Error {
  return new Error(`${what}: the answer could not be read (${String(why)})`);
}
