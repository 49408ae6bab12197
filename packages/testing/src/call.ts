import type * as grpc from '@grpc/grpc-js';
import { status as Status } from '@grpc/grpc-js';

/** How a discovery stream ended: the gRPC status the client saw, and the method of the stream. */
export interface StreamEnd {
  /** The status code: from the server, or `CANCELLED` when the client closed the stream. */
  readonly code: grpc.status;
  /** The status details (the server's message). */
  readonly details: string;
  /** The stream's method path. */
  readonly path: string;
}

/** A readable form of a stream end for error messages: `3 INVALID_ARGUMENT: "missing node"`. */
export function describeEnd(end: StreamEnd): string {
  return `${end.code} ${Status[end.code] ?? 'UNKNOWN'}: ${JSON.stringify(end.details)}`;
}

/** What a call reports to its owner. */
export interface CallHandlers<Res> {
  /** A message arrived. An exception thrown here cancels the stream, with the exception as the details. */
  onMessage(message: Res): void;
  /** The stream ended (once). */
  onEnd(end: StreamEnd): void;
}

/** How to (de)serialize one method's messages. */
export interface CallCodec<Req, Res> {
  /** The request serializer. */
  readonly serialize: (value: Req) => Buffer;
  /** The response deserializer. */
  readonly deserialize: (bytes: Buffer) => Res;
}

/**
 * One bidirectional gRPC stream, opened at the first write. Listens to `'error'`, `'status'` and `'end'` so that
 * nothing goes unhandled, and reports the final status once.
 */
export class XdsCall<Req, Res> {
  readonly #client: grpc.Client;
  readonly #codec: CallCodec<Req, Res>;
  readonly #handlers: CallHandlers<Res>;
  #call: grpc.ClientDuplexStream<Req, Res> | undefined;
  #end: StreamEnd | undefined;
  #failure: string | undefined;

  /** Creates the stream object; nothing is sent until the first {@link write}. */
  constructor(
    client: grpc.Client,
    readonly path: string,
    codec: CallCodec<Req, Res>,
    handlers: CallHandlers<Res>,
  ) {
    this.#client = client;
    this.#codec = codec;
    this.#handlers = handlers;
  }

  /** True once the stream was opened (a first request written). */
  get opened(): boolean {
    return this.#call !== undefined;
  }

  /** How the stream ended, or undefined while it is open or not yet opened. */
  get end(): StreamEnd | undefined {
    return this.#end;
  }

  /** Sends a message, opening the stream first if needed. Throws once the stream has ended. */
  write(message: Req): void {
    if (this.#end !== undefined) {
      throw new Error(`cannot send on ${this.path}: the stream ended with ${describeEnd(this.#end)}`);
    }
    this.#call ??= this.#open();
    this.#call.write(message);
  }

  /** Cancels the stream (status `CANCELLED`); a stream never opened just counts as ended. */
  cancel(): void {
    if (this.#end !== undefined) return;
    if (this.#call === undefined) {
      this.#finish({
        code: Status.CANCELLED,
        details: 'closed before the stream was opened',
        path: this.path,
      });
      return;
    }
    this.#call.cancel();
  }

  #open(): grpc.ClientDuplexStream<Req, Res> {
    const call = this.#client.makeBidiStreamRequest(
      this.path,
      this.#codec.serialize,
      this.#codec.deserialize,
    );
    call.on('data', (message: Res) => {
      if (this.#failure !== undefined) return;
      try {
        this.#handlers.onMessage(message);
      } catch (e) {
        this.#failure = `the client failed on a response: ${e instanceof Error ? e.message : String(e)}`;
        call.cancel();
      }
    });
    // Every non-OK status also comes as 'status', which is the one that counts; 'error' must still be listened
    // to, or the stream would throw it.
    call.on('error', () => {});
    call.on('end', () => {});
    call.on('status', (status: grpc.StatusObject) => {
      const details = this.#failure ?? status.details;
      this.#finish({ code: status.code, details, path: this.path });
    });
    return call;
  }

  #finish(end: StreamEnd): void {
    if (this.#end !== undefined) return;
    this.#end = end;
    this.#handlers.onEnd(end);
  }
}
