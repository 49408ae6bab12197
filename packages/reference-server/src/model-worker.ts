// The entry of the worker thread that reads a changed model file (rule L4: nothing a file holds may stall or end
// the server). Parsing and checking a large or hostile file takes the worker's time and memory, bounded by its
// resourceLimits and a timeout, while the main thread goes on answering xDS and admin requests.
import { parentPort, workerData } from 'node:worker_threads';
import { type ReadModelOptions, readModelFile } from './model-read.js';

/** What the worker is given: {@link ReadModelOptions} without the callback. */
export type ModelWorkerData = Omit<ReadModelOptions, 'onDigest'>;

/** What the worker posts: the digest of a new text before parsing it, then the result. */
export type ModelWorkerMessage =
  | { readonly type: 'digest'; readonly digest: string }
  | { readonly type: 'result'; readonly result: ReturnType<typeof readModelFile> };

const port = parentPort;
if (port !== null) {
  const data = workerData as ModelWorkerData;
  const post = (message: ModelWorkerMessage) => port.postMessage(message);
  const result = readModelFile({ ...data, onDigest: (digest) => post({ type: 'digest', digest }) });
  post({ type: 'result', result });
}
