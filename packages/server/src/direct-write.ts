// Writes a discovery response to its call's HTTP/2 stream without copying its body (issue 15: fewer copies on the
// write path). A response is a body shared by every stream it is sent to plus a small per-stream head (the nonce
// field); grpc-js's own write path would need them joined into one message (our copy) and then copies that message
// into a frame with its 5-byte gRPC header (grpc-js's copy). Here the header with the nonce (protobuf fields come in
// any order, so the nonce goes first) and the shared body go to the HTTP/2 stream as two chunks of one corked write
// (Http2Stream implements writev): nghttp2 sends the body from the very buffer every stream shares, so a connect
// storm allocates and copies nothing per stream but a few bytes, and leaves no large transient buffers behind for
// glibc to keep (bench scenario 4).
//
// grpc-js keeps the server call's stream private, so this reaches it (grpc-js 1.14: `call.call` is the
// `BaseServerInterceptingCall` when the server has no interceptors) and does what its `sendMessage` does around
// the write: the cancellation check, the response headers first, the size limit, channelz's count, and on a write
// error an INTERNAL status. A feature check decides once per call; any other layout (another grpc-js, a server
// interceptor, which must see every message) falls back to the call's own `write`, as does a message over
// `grpc.max_send_message_length` (grpc-js then ends the call with RESOURCE_EXHAUSTED). The write callback keeps
// grpc-js's meaning, flushed to the socket, so the write budget and rule S12 count exactly as before.
import { status } from '@grpc/grpc-js';

/** The gRPC message header: a flag byte and a 32-bit big-endian length. */
export const messageHeaderBytes = 5;

/**
 * An encoded response in parts: `head`, this stream's own buffer (the first {@link messageHeaderBytes} left for the
 * gRPC message header, which the writer fills in, then this stream's nonce field), then `body`, never written after
 * it is shared (many streams send the same buffer); or no head when `body` is the whole message.
 */
export interface ResponseParts {
  readonly body: Uint8Array;
  readonly head: Buffer | undefined;
  /** The message's length: the head's fields and the body (the gRPC header not counted). */
  readonly length: number;
}

/** A response that is one buffer. */
export function wholeResponse(bytes: Uint8Array): ResponseParts {
  return { body: bytes, head: undefined, length: bytes.length };
}

/** Called once the message is flushed to the socket, or with an error once the call is gone. */
export type WriteDone = (error?: Error | null) => void;

/** Writes one response message on a call. */
export type ResponseWrite = (parts: ResponseParts, done: WriteDone) => void;

/** How many responses took each path (for tests and diagnostics). */
export const writePaths = { direct: 0, fallback: 0 };

/** What is used of a Node HTTP/2 server stream. */
interface Http2StreamLike {
  readonly writableEnded: boolean;
  readonly destroyed: boolean;
  cork(): void;
  uncork(): void;
  write(chunk: Uint8Array, callback?: (error?: Error | null) => void): boolean;
  respond(...args: unknown[]): void;
}

/** What is used of grpc-js 1.14's `BaseServerInterceptingCall`. */
interface BaseCallLike {
  readonly stream: Http2StreamLike;
  readonly maxSendMessageSize: number;
  readonly callEventTracker?: { addMessageSent(): void } | null;
  checkCancelled(): boolean;
  maybeSendMetadata(): void;
  serializeMessage(value: unknown): unknown;
  sendStatus(status: { code: number; details: string; metadata: null }): void;
}

const fn = (value: object, name: string): boolean =>
  typeof (value as Record<string, unknown>)[name] === 'function';

function isStream(value: unknown): value is Http2StreamLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    fn(value, 'cork') &&
    fn(value, 'uncork') &&
    fn(value, 'write') &&
    fn(value, 'respond') &&
    'rstCode' in value &&
    'writableEnded' in value
  );
}

/** A probe message, and the frame grpc-js must make of it: flag 0 (not compressed), length 3, the bytes. */
const probe = Buffer.from([0x2a, 0x01, 0x78]);
const probeFrame = Buffer.from([0, 0, 0, 0, 3, 0x2a, 0x01, 0x78]);

/**
 * The base call under a grpc-js server call, if it has the shape this file relies on and frames a message the
 * way this file does: 5-byte header, not compressed (grpc-js 1.14 never compresses responses; a version that did
 * would fail the probe).
 */
function baseCallOf(call: object): BaseCallLike | undefined {
  const base = (call as { call?: unknown }).call;
  if (typeof base !== 'object' || base === null) return undefined;
  // A server interceptor wraps the base call; its messages must go through it.
  if ('nextCall' in base) return undefined;
  for (const name of ['checkCancelled', 'maybeSendMetadata', 'serializeMessage', 'sendStatus'])
    if (!fn(base, name)) return undefined;
  const candidate = base as BaseCallLike;
  if (!isStream(candidate.stream) || typeof candidate.maxSendMessageSize !== 'number') return undefined;
  const tracker = candidate.callEventTracker;
  if (tracker != null && !fn(tracker, 'addMessageSent')) return undefined;
  try {
    const framed = candidate.serializeMessage(probe);
    return Buffer.isBuffer(framed) && framed.equals(probeFrame) ? candidate : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The gRPC message header (flag 0, not compressed, then the length as a 32-bit big-endian integer), written into
 * the response's head when it has one (its nonce field follows: a protobuf message's fields may come in any order,
 * so a response is two chunks, not three), else a buffer of its own.
 */
function messageHead(length: number, head: Buffer | undefined): Buffer {
  const out = head ?? Buffer.allocUnsafe(messageHeaderBytes);
  out[0] = 0;
  out.writeUInt32BE(length, 1);
  return out;
}

const asBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** The call's own write path: parts joined into one message (`join`), which grpc-js frames and writes. */
function fallbackWrite(
  call: { write(message: Uint8Array, done: WriteDone): unknown },
  join: (parts: ResponseParts) => Uint8Array,
): ResponseWrite {
  return (parts, done) => {
    writePaths.fallback++;
    call.write(join(parts), done);
  };
}

/**
 * The write path of a grpc-js server call: direct to its HTTP/2 stream when the call is grpc-js 1.14's plain
 * server call, else through `call.write` with the parts joined by `join`.
 */
export function responseWriter(
  call: { write(message: Uint8Array, done: WriteDone): unknown },
  join: (parts: ResponseParts) => Uint8Array,
): ResponseWrite {
  const fallback = fallbackWrite(call, join);
  const base = baseCallOf(call);
  if (base === undefined) return fallback;
  /** What grpc-js does once a message is flushed, or failed. */
  const settle = (done: WriteDone, error?: Error | null) => {
    if (error) {
      base.sendStatus({ code: status.INTERNAL, details: 'Internal server error', metadata: null });
      done(error);
      return;
    }
    base.callEventTracker?.addMessageSent();
    done();
  };
  /** The callback of the write in flight: one closure per call, not per write (rule S12: one write at a time). */
  let current: WriteDone | undefined;
  const flushedCurrent = (error?: Error | null) => {
    const done = current!;
    current = undefined;
    settle(done, error);
  };
  return (parts, done) => {
    const max = base.maxSendMessageSize;
    // Too large: grpc-js's own path ends the call with RESOURCE_EXHAUSTED.
    if (max !== -1 && parts.length > max) {
      fallback(parts, done);
      return;
    }
    // A cancelled call writes nothing and never calls back, as in grpc-js: its 'cancelled' event ends the stream.
    if (base.checkCancelled()) return;
    const stream = base.stream;
    // grpc-js ended the call on its own (a deadline): a write after the end would be an 'error' event on the stream.
    if (stream.writableEnded || stream.destroyed) {
      process.nextTick(done, new Error('the call already ended'));
      return;
    }
    writePaths.direct++;
    base.maybeSendMetadata();
    let flushed = flushedCurrent;
    if (current === undefined) current = done;
    // A second write before the first one's callback (the stream writer never does this): a callback of its own.
    else flushed = (error?: Error | null) => settle(done, error);
    stream.cork();
    stream.write(messageHead(parts.length, parts.head));
    stream.write(asBuffer(parts.body), flushed);
    stream.uncork();
  };
}

/** True when a call's responses take the direct path (a test keeps a grpc-js upgrade from silently losing it). */
export function writesDirect(call: object): boolean {
  return baseCallOf(call) !== undefined;
}
