/**
 * The entry of a registry's parse worker thread (rule L4: nothing a registry answers may stall the server). It parses
 * an answer's bytes (transferred, not copied), reduces it to what the adapter keeps (parse-jobs.ts), and hands the
 * result back in chunks, one when asked, so the event loop takes each chunk in its own turn. Its heap and time are
 * bounded by its parent (body-parser.ts): a hostile answer costs this thread, never the one that answers xDS.
 */
import { parentPort } from 'node:worker_threads';
import { type ParseJob, runJob } from './parse-jobs.js';

/** What the parent asks: parse bytes for a job, send the next chunk of a result, or forget a result. */
export type ParseWorkerRequest =
  | {
      readonly type: 'parse';
      readonly id: number;
      readonly job: ParseJob;
      readonly bytes: Uint8Array;
      /** The most items in one chunk. */
      readonly chunkItems: number;
    }
  | { readonly type: 'next'; readonly id: number }
  | { readonly type: 'drop'; readonly id: number };

/** What the worker answers: a chunk of a result (the first with its metadata), or why the answer could not be read. */
export type ParseWorkerMessage =
  | {
      readonly type: 'chunk';
      readonly id: number;
      readonly meta?: unknown;
      readonly items: readonly unknown[];
      /** The total items of the result. */
      readonly total: number;
      readonly done: boolean;
    }
  | { readonly type: 'failed'; readonly id: number; readonly message: string };

interface Held {
  readonly items: readonly unknown[];
  readonly chunkItems: number;
  next: number;
}

const port = parentPort;
if (port !== null) {
  const held = new Map<number, Held>();
  const decoder = new TextDecoder();
  const send = (id: number, meta?: unknown): void => {
    const result = held.get(id);
    if (result === undefined) return;
    const end = Math.min(result.items.length, result.next + result.chunkItems);
    const items = result.items.slice(result.next, end);
    result.next = end;
    const done = end >= result.items.length;
    if (done) held.delete(id);
    const message: ParseWorkerMessage = {
      type: 'chunk',
      id,
      ...(meta === undefined ? {} : { meta }),
      items,
      total: result.items.length,
      done,
    };
    port.postMessage(message);
  };
  port.on('message', (request: ParseWorkerRequest) => {
    if (request.type === 'next') return send(request.id);
    if (request.type === 'drop') {
      held.delete(request.id);
      return;
    }
    let output: { meta: unknown; items: unknown[] };
    try {
      output = runJob(request.job, JSON.parse(decoder.decode(request.bytes)));
    } catch (error) {
      const message: ParseWorkerMessage = {
        type: 'failed',
        id: request.id,
        message: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      };
      port.postMessage(message);
      return;
    }
    held.set(request.id, { items: output.items, chunkItems: Math.max(1, request.chunkItems), next: 0 });
    send(request.id, output.meta ?? null);
  });
}
