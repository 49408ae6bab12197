// Lets go of the socket read buffers grpc-js's message decoder keeps after a request (issue 15, bench scenario 4:
// memory per idle client).
//
// Node's HTTP/2 session reads its socket into buffers of up to 64 KiB, and a stream's DATA reaches grpc-js as
// views into them. grpc-js 1.14's `StreamDecoder` (one per call) copies each complete message out, but keeps two
// views of the read that carried the message's start (`readCompressFlag`, the flag byte, and `readPartialMessage`,
// the message's pieces) until the next message begins. On an xDS stream the next message may come hours later, so
// every idle stream pins the whole read buffer of its last request: about 15 KiB per client in scenario 4 (10 KiB
// ACKs of 1,000 names, and reads carrying frames of many streams), scattered over glibc's heap where it keeps the
// memory around it from being reused or returned.
//
// Once a write leaves the decoder between messages (`readState` NO_DATA), neither view is read again: grpc-js
// replaces both when the next message starts. So each call's decoder gets a `write` that runs grpc-js's own and
// then, between messages, points both at buffers of our own. Nothing else changes: the same bytes make the same
// messages in the same order, and a message still being read keeps its pieces. A check on a probe decoder, once
// per decoder class, confirms the layout and behaviour this relies on; any other layout (another grpc-js, a server
// interceptor's call) is left as it is.

/** What is used of grpc-js 1.14's `StreamDecoder`. */
interface DecoderLike {
  readState: number;
  readCompressFlag: Buffer;
  readPartialMessage: Buffer[];
  write(data: Buffer): Buffer[];
}

/** `ReadState.NO_DATA` of grpc-js 1.14: between messages. */
const noData = 0;

/** The flag byte a released decoder holds: only ever read (grpc-js assigns a new one when a message starts). */
const releasedFlag = Buffer.alloc(1);

/** Decoder classes checked, with the verdict. */
const checked = new WeakMap<object, boolean>();

function looksLikeDecoder(value: unknown): value is DecoderLike {
  if (typeof value !== 'object' || value === null) return false;
  const decoder = value as Partial<Record<keyof DecoderLike, unknown>>;
  return (
    typeof decoder.write === 'function' &&
    typeof decoder.readState === 'number' &&
    Buffer.isBuffer(decoder.readCompressFlag) &&
    Array.isArray(decoder.readPartialMessage)
  );
}

/**
 * True when a fresh decoder of this class, given one whole message and the first byte of the next in a single
 * write, returns the message, then holds the next message's flag as a view of that write (what is released), and
 * after the next message's last byte is back between messages.
 */
function behavesAsExpected(decoder: DecoderLike): boolean {
  const Decoder = decoder.constructor as new (maxReadMessageLength: number) => unknown;
  try {
    const probe = new Decoder(-1);
    if (!looksLikeDecoder(probe)) return false;
    const data = Buffer.from([0, 0, 0, 0, 2, 0x2a, 0x01, 0]);
    const first = probe.write(data);
    if (first.length !== 1 || first[0]!.length !== 7 || probe.readState === noData) return false;
    if (probe.readCompressFlag.buffer !== data.buffer) return false;
    const second = probe.write(Buffer.from([0, 0, 0, 1, 0x2a]));
    return second.length === 1 && second[0]!.length === 6 && probe.readState === noData;
  } catch {
    return false;
  }
}

/** grpc-js's `write`, then, between messages, the views of the read buffer dropped. */
function releasingWrite(this: DecoderLike, data: Buffer): Buffer[] {
  const own = Object.getPrototypeOf(this) as DecoderLike;
  const messages = own.write.call(this, data);
  if (this.readState === noData) {
    this.readCompressFlag = releasedFlag;
    if (this.readPartialMessage.length > 0) this.readPartialMessage = [];
  }
  return messages;
}

/**
 * Makes a grpc-js server call's message decoder let go of the socket read buffers of each request once the request
 * is decoded (see the file comment). Returns false, changing nothing, when the call is not grpc-js 1.14's plain
 * server call (`call.call.decoder`).
 */
export function releaseReadBuffers(call: object): boolean {
  const base = (call as { readonly call?: unknown }).call;
  if (typeof base !== 'object' || base === null) return false;
  const decoder = (base as { readonly decoder?: unknown }).decoder;
  if (!looksLikeDecoder(decoder)) return false;
  const prototype = Object.getPrototypeOf(decoder) as object | null;
  if (prototype === null || !Object.hasOwn(prototype, 'write') || Object.hasOwn(decoder, 'write'))
    return false;
  let fits = checked.get(prototype);
  if (fits === undefined) {
    fits = behavesAsExpected(decoder);
    checked.set(prototype, fits);
  }
  if (!fits) return false;
  decoder.write = releasingWrite;
  return true;
}
