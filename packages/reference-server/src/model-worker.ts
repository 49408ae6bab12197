// The entry of the worker thread that reads changed model files (rule L4: nothing a file holds may stall or end the
// server). Parsing and checking a large or hostile file takes the worker's time and memory, bounded by its
// resourceLimits and a timeout, while the main thread goes on answering xDS and admin requests.
import { parentPort } from 'node:worker_threads';
import { type ReadModelOptions, type ReadResult, readModelFile } from './model-read.js';

/** A read asked of the worker: {@link ReadModelOptions} without the callback, and an id for the answers. */
export interface ModelWorkerRequest extends Omit<ReadModelOptions, 'onDigest'> {
  readonly id: number;
}

/** What the worker posts for a request: the digest of a new text before parsing it, then the result. */
export type ModelWorkerMessage =
  | { readonly type: 'digest'; readonly id: number; readonly digest: string }
  | { readonly type: 'result'; readonly id: number; readonly result: ReadResult };

const port = parentPort;
if (port !== null) {
  const post = (message: ModelWorkerMessage) => port.postMessage(message);
  port.on('message', (request: ModelWorkerRequest) => {
    const { id, ...options } = request;
    const result = readModelFile({ ...options, onDigest: (digest) => post({ type: 'digest', id, digest }) });
    post({ type: 'result', id, result });
  });
}
