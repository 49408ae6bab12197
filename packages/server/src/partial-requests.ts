// Rule L2: a request message the server has begun to receive holds its bytes until its last one arrives; this file
// makes every call's unfinished messages reserve from the server's {@link PartialRequestBudget}
// (`limits.maxPartialRequestBytesTotal`, `limits.maxPartialRequestBytesPerPeer` for its connection's peer address,
// `limits.maxPartialRequestBytesPerConnection`), ends a message that stays unfinished past
// `limits.partialRequestTimeoutMs`, and keeps what an unfinished message pins close to its bytes.
//
// grpc-js 1.14 decodes each call's messages with a `StreamDecoder` (`decoder` of its base server call) that reads the
// 5-byte header (flag, 32-bit length), then collects the message's pieces as views of the socket reads that carried
// them. Each call's decoder gets a `write` that runs the one it had (grpc-js's, or read-buffers.ts's on top of it),
// then looks at where it stopped:
// - mid-message (`READING_MESSAGE`): the message reserves what it has received plus a look-ahead
//   ({@link reservationFor}: as much again as received, at most `maxLookAheadBytes`, plus `coalesceBytes`), never
//   more than the length its header announced, and grows the reservation as its bytes arrive. A header alone is free
//   to send, so reserving the announced length let 12 headers of 16 MiB and 12 KB of bytes hold the whole share of
//   big messages forever and refuse every honest request over 64 KiB (probe5 P3); now holding N bytes of the budget
//   costs the client about N/2 bytes really sent (and held by the server: the budget bounds memory). The share a
//   message may use is still chosen by its announced length. A reservation that cannot grow ends its call: the
//   `write` throws, and grpc-js ends the call with RESOURCE_EXHAUSTED and the error's message, which names the limit
//   (as past `maxRequestBytes`). A message that arrives whole within one write never reserves anything.
// - a message unfinished `limits.partialRequestTimeoutMs` after its first bytes arrived ends its call with
//   DEADLINE_EXCEEDED naming the limit; its bytes are dropped and its reservation given back (a 16 MiB message at a
//   modest 1 MiB/s takes 16 s; the default is 30 s).
// - anywhere else (the message completed, or the next one's header is unfinished): gives the reservation back.
// - the call ends by any path: a status sent (the server's own, a refusal, a deadline, a failed hook) or its HTTP/2
//   stream closed (client cancel, RST_STREAM, the session or socket destroyed, the server closing): the reservation
//   is given back, and bytes that still arrive are dropped undecoded.
// Memory an unfinished message pins (issue 10): the flag byte is copied out of its read buffer while the header or
// the message is unfinished (grpc-js keeps a one-byte view of a read of up to 64 KiB); a piece less than half of the
// read buffer it views is copied out, and pieces under `coalesceBytes` are gathered into buffers of that size, so
// that a client sending one byte per DATA frame pins neither a read buffer nor an object per byte.
//
// Every call gets this from the server interceptor {@link partialRequestInterceptor} (on the server `listen` makes:
// grpc-js runs a unary handler only once its request is whole, too late), and every discovery stream from
// stream-admission.ts as well (on an application's own grpc-js server, `addTo`). A decoder of another shape (another
// grpc-js) is left as it is.
import type {
  ServerInterceptingCall,
  ServerInterceptingCallInterface,
  ServerInterceptor,
} from '@grpc/grpc-js';
import type { XdsError } from '@xds/api';
import { peerKey } from './connection-gate.js';
import type { PartialRequestBudget, PartialRequestOwner } from './partial-request-budget.js';
import { releaseReadBuffers } from './read-buffers.js';

/** What is used of grpc-js 1.14's `StreamDecoder`. */
interface DecoderLike {
  readState: number;
  readMessageSize: number;
  readMessageRemaining: number;
  readCompressFlag: Buffer;
  readPartialMessage: Buffer[];
  write(data: Buffer): Buffer[];
}

/** What is used of grpc-js 1.14's `BaseServerInterceptingCall`. */
interface BaseCallLike {
  readonly decoder: unknown;
  readonly stream: {
    readonly session?: { readonly socket?: { readonly remoteAddress?: string | undefined } } | undefined;
    once(event: 'close', listener: () => void): unknown;
  };
  sendStatus(status: unknown): void;
}

/** `ReadState` of grpc-js 1.14's decoder: the header is being read. */
const readingSize = 1;
/** `ReadState` of grpc-js 1.14's decoder: the message is being read. */
const readingMessage = 2;

/** Pieces shorter than this are gathered into buffers of this size; also the least look-ahead a message reserves. */
export const coalesceBytes = 16 * 1024;

/** The most look-ahead an unfinished message reserves beyond the bytes it has received. */
export const maxLookAheadBytes = 1024 * 1024;

/**
 * What an unfinished message that announced `announced` bytes reserves once `received` of them have arrived: the
 * received bytes, as much again (at most {@link maxLookAheadBytes}) and {@link coalesceBytes}, never more than
 * `announced`. A message reserves at least `min(announced, received + coalesceBytes)` and at most this: it grows
 * to this whenever its bytes pass the first bound, so it asks the budget a few times per MiB, not per read.
 */
export function reservationFor(received: number, announced: number): number {
  return Math.min(announced, received + Math.min(received, maxLookAheadBytes) + coalesceBytes);
}

/** Decoder classes checked, with the verdict. */
const checked = new WeakMap<object, boolean>();
/** Decoders and base calls already limited (the interceptor and stream-admission.ts both ask). */
const limited = new WeakSet<object>();

function looksLikeDecoder(value: unknown): value is DecoderLike {
  if (typeof value !== 'object' || value === null) return false;
  const d = value as Partial<Record<keyof DecoderLike, unknown>>;
  return (
    typeof d.write === 'function' &&
    typeof d.readState === 'number' &&
    typeof d.readMessageSize === 'number' &&
    typeof d.readMessageRemaining === 'number' &&
    Buffer.isBuffer(d.readCompressFlag) &&
    Array.isArray(d.readPartialMessage)
  );
}

/**
 * True when a fresh decoder of this class, given a header announcing 3 bytes and one of them, is mid-message with
 * that length and one piece, and given the other two returns the message and is between messages.
 */
function behavesAsExpected(decoder: DecoderLike): boolean {
  const Decoder = decoder.constructor as new (maxReadMessageLength: number) => unknown;
  try {
    const probe = new Decoder(-1);
    if (!looksLikeDecoder(probe)) return false;
    if (probe.write(Buffer.from([0, 0, 0, 0, 3, 0x2a])).length !== 0) return false;
    if (probe.readState !== readingMessage || probe.readMessageSize !== 3) return false;
    if (probe.readPartialMessage.length !== 1 || probe.readMessageRemaining !== 2) return false;
    const done = probe.write(Buffer.from([0x01, 0x78]));
    return done.length === 1 && done[0]!.length === 8 && (probe.readState as number) === 0;
  } catch {
    return false;
  }
}

/** `flag`, or a one-byte buffer of its own with its byte when it views a larger buffer (not Node's shared pool). */
function ownFlag(flag: Buffer): Buffer {
  return flag.buffer.byteLength <= 1 ? flag : Buffer.alloc(1, flag[0] ?? 0);
}

function copyOf(piece: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(piece.length);
  piece.copy(copy);
  return copy;
}

/** How one decoder's unfinished message is accounted for. */
export interface DecoderAccount {
  /** Bytes the decoder's unfinished message holds reserved now. */
  readonly reserved: number;
  /** The call ended: gives the reservation back for good; later writes are dropped. */
  end(): void;
}

/**
 * Makes `decoder` (grpc-js 1.14's `StreamDecoder`) reserve each unfinished message's bytes from `budget` for
 * `owner` (its connection and peer address) as they arrive, end a message unfinished past the budget's
 * `partialRequestTimeoutMs` (calling `expired` with the DEADLINE_EXCEEDED error naming the limit: its caller ends
 * the call), and keep its pieces compact (see the file comment). Returns undefined, changing nothing, for a decoder
 * of another shape or one already limited.
 */
export function limitDecoder(
  decoder: unknown,
  budget: PartialRequestBudget,
  owner: PartialRequestOwner,
  expired: (error: XdsError) => void = () => {},
): DecoderAccount | undefined {
  if (!looksLikeDecoder(decoder) || limited.has(decoder)) return undefined;
  const prototype = Object.getPrototypeOf(decoder) as object | null;
  if (prototype === null) return undefined;
  let fits = checked.get(prototype);
  if (fits === undefined) {
    fits = behavesAsExpected(decoder);
    checked.set(prototype, fits);
  }
  if (!fits) return undefined;
  limited.add(decoder);
  const limitedDecoder = decoder;
  const inner = decoder.write;
  /** The pieces array of the message holding the reservation (grpc-js makes a new one per message). */
  let heldFor: Buffer[] | undefined;
  let held = 0;
  let ended = false;
  /** The deadline of the unfinished message (`limits.partialRequestTimeoutMs`). */
  let deadline: NodeJS.Timeout | undefined;
  /** Our gathering buffer, how much of it is used, and where its view sits among the pieces. */
  let tail: Buffer | undefined;
  let tailUsed = 0;
  let tailAt = -1;
  /** Pieces of the held message already looked at. */
  let settled = 0;
  const release = () => {
    if (heldFor !== undefined) budget.release(owner, held, true);
    if (deadline !== undefined) clearTimeout(deadline);
    deadline = undefined;
    held = 0;
    heldFor = undefined;
    tail = undefined;
    settled = 0;
  };
  const expire = () => {
    deadline = undefined;
    if (ended || heldFor === undefined) return;
    ended = true;
    const error = budget.expired(
      limitedDecoder.readMessageSize,
      limitedDecoder.readMessageSize - limitedDecoder.readMessageRemaining,
    );
    limitedDecoder.readPartialMessage = [];
    release();
    expired(error);
  };
  /** Copies out or gathers the piece the last write added, if any (see the file comment). */
  const compact = (pieces: Buffer[]) => {
    const n = pieces.length;
    if (n <= settled) return;
    const piece = pieces[n - 1]!;
    settled = n;
    if (piece.length >= coalesceBytes) {
      tail = undefined;
      if (piece.buffer.byteLength > 2 * piece.length) pieces[n - 1] = copyOf(piece);
      return;
    }
    if (tail !== undefined && tailAt === n - 2 && tailUsed + piece.length <= tail.length) {
      piece.copy(tail, tailUsed);
      tailUsed += piece.length;
      pieces[n - 2] = tail.subarray(0, tailUsed);
      pieces.pop();
      settled = n - 1;
      return;
    }
    tail = Buffer.allocUnsafeSlow(coalesceBytes);
    piece.copy(tail, 0);
    tailUsed = piece.length;
    tailAt = n - 1;
    pieces[n - 1] = tail.subarray(0, tailUsed);
  };
  /** Ends the call's message with `refusal`: grpc-js ends the call with RESOURCE_EXHAUSTED and its message. */
  const refuse = (self: DecoderLike, refusal: XdsError): never => {
    ended = true;
    self.readPartialMessage = [];
    release();
    throw refusal;
  };
  decoder.write = function limitedWrite(this: DecoderLike, data: Buffer): Buffer[] {
    if (ended) return [];
    const messages = inner.call(this, data);
    if (this.readState !== readingMessage) {
      release();
      if (this.readState === readingSize) this.readCompressFlag = ownFlag(this.readCompressFlag);
      return messages;
    }
    const announced = this.readMessageSize;
    if (this.readPartialMessage !== heldFor) {
      release();
      const refusal = budget.reserve(owner, 0, announced, true);
      if (refusal !== undefined) refuse(this, refusal);
      heldFor = this.readPartialMessage;
      this.readCompressFlag = ownFlag(this.readCompressFlag);
      deadline = setTimeout(expire, budget.partialRequestTimeoutMs);
      deadline.unref();
    }
    const received = announced - this.readMessageRemaining;
    if (held < Math.min(announced, received + coalesceBytes)) {
      const more = reservationFor(received, announced) - held;
      const refusal = budget.reserve(owner, more, announced, false);
      if (refusal !== undefined) refuse(this, refusal);
      held += more;
    }
    compact(this.readPartialMessage);
    return messages;
  };
  return {
    get reserved() {
      return held;
    },
    end() {
      ended = true;
      release();
    },
  };
}

/** Connections' owners, read once per HTTP/2 session (the socket's address is gone once it closes). */
const owners = new WeakMap<object, PartialRequestOwner>();

/** The call's HTTP/2 session (its stream, if it has none) and the session's peer address. */
function ownerOf(base: BaseCallLike): PartialRequestOwner {
  const session = base.stream.session;
  if (session === undefined) return { connection: base.stream, peer: undefined };
  let owner = owners.get(session);
  if (owner === undefined) {
    let address: string | undefined;
    try {
      address = session.socket?.remoteAddress;
    } catch {
      // A destroyed session's socket proxy may throw: the connection then counts without a peer.
    }
    owner = { connection: session, peer: peerKey(address) };
    owners.set(session, owner);
  }
  return owner;
}

function looksLikeBaseCall(value: unknown): value is BaseCallLike {
  if (typeof value !== 'object' || value === null) return false;
  const call = value as Partial<Record<keyof BaseCallLike, unknown>>;
  const stream = call.stream as { once?: unknown } | undefined;
  return typeof call.sendStatus === 'function' && typeof stream?.once === 'function';
}

/**
 * Makes a grpc-js 1.14 base server call (`BaseServerInterceptingCall`) reserve its unfinished request messages from
 * `budget` (see the file comment), until it sends a status or its HTTP/2 stream closes; keeps read-buffers.ts's
 * release of idle read buffers. Returns true when the call is limited (now or before), false, changing nothing,
 * for a call of another shape.
 */
export function limitPartialRequests(base: unknown, budget: PartialRequestBudget): boolean {
  if (!looksLikeBaseCall(base)) return false;
  if (limited.has(base)) return true;
  // read-buffers.ts wraps grpc-js's own `write` only: it goes first, this on top of it.
  releaseReadBuffers({ call: base });
  const account = limitDecoder(base.decoder, budget, ownerOf(base), (error) =>
    base.sendStatus({ code: error.code, details: error.message }),
  );
  if (account === undefined) return false;
  limited.add(base);
  const send = base.sendStatus;
  base.sendStatus = function sendStatus(this: BaseCallLike, status: unknown): void {
    account.end();
    send.call(this, status);
  };
  base.stream.once('close', () => account.end());
  return true;
}

/**
 * A grpc-js server interceptor that limits every call's unfinished request messages (rule L2), unary calls included
 * (grpc-js runs their handler only once the request is whole). It must come first among a server's interceptors
 * (it needs grpc-js's own base call), and passes that call on unchanged.
 */
export function partialRequestInterceptor(budget: PartialRequestBudget): ServerInterceptor {
  return (_method, call: ServerInterceptingCallInterface) => {
    limitPartialRequests(call, budget);
    return call as unknown as ServerInterceptingCall;
  };
}
