// Ends one gRPC call with RST_STREAM, for the one case a status cannot do it: a client that does not read (rule S12).
// A status goes in trailers after the response bytes already queued on the HTTP/2 stream, and those never leave
// while the client grants no flow-control window, so the status would never arrive and the stream would stay open.
// RST_STREAM is not flow-controlled. grpc-js has no public way to reset one call, so this reaches the HTTP/2 stream
// under the call (grpc-js 1.14: `call.call` → `nextCall`… → `stream`) and reports whether it found it.
import { constants } from 'node:http2';

/** What is used of the HTTP/2 stream under a call. */
export interface ResettableStream {
  readonly rstCode?: number;
  readonly closed?: boolean;
  close(code?: number): void;
  respond(...args: unknown[]): void;
  once(event: 'close', listener: () => void): unknown;
}

function isHttp2Stream(value: unknown): value is ResettableStream {
  if (typeof value !== 'object' || value === null) return false;
  const stream = value as Partial<ResettableStream>;
  return (
    typeof stream.close === 'function' &&
    typeof stream.respond === 'function' &&
    typeof stream.once === 'function' &&
    'rstCode' in stream
  );
}

/** The HTTP/2 stream under a grpc-js server call, or undefined when it cannot be found (another grpc-js layout). */
export function http2StreamOf(call: object): ResettableStream | undefined {
  let layer: unknown = (call as { call?: unknown }).call;
  for (let depth = 0; depth < 8 && typeof layer === 'object' && layer !== null; depth++) {
    const stream = (layer as { stream?: unknown }).stream;
    if (isHttp2Stream(stream)) return stream;
    layer = (layer as { nextCall?: unknown }).nextCall;
  }
  return undefined;
}

/**
 * Resets the HTTP/2 stream of a grpc-js server call with `code` (default ENHANCE_YOUR_CALM, which gRPC clients
 * report as RESOURCE_EXHAUSTED). Returns false when the stream cannot be found (another grpc-js layout).
 */
export function resetCall(call: object, code: number = constants.NGHTTP2_ENHANCE_YOUR_CALM): boolean {
  const stream = http2StreamOf(call);
  stream?.close(code);
  return stream !== undefined;
}
