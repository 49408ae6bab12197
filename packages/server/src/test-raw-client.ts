// A raw HTTP/2 xDS client for the server's tests of hostile clients (rules S12, L2): streams that never read
// (no flow-control window), that send headers and nothing else, or many streams on one connection. grpc-js's own
// client cannot misbehave like this.
import { type ClientHttp2Session, type ClientHttp2Stream, connect, constants } from 'node:http2';
import { create, fromBinary, type MessageInitShape, toBinary } from '@bufbuild/protobuf';
import {
  type DiscoveryMethod,
  DiscoveryRequestSchema,
  type DiscoveryResponse,
  DiscoveryResponseSchema,
  discoveryMethods,
} from '@xds/api';

/** The path of a discovery method: SotW or delta, ADS (no type) or per type. */
export function methodPathOf(kind: 'sotw' | 'delta', typeUrl?: string): string {
  const method = discoveryMethods.find(
    (m: DiscoveryMethod) => m.kind === kind && m.typeUrl === (typeUrl as DiscoveryMethod['typeUrl']),
  );
  if (method === undefined) throw new Error(`no ${kind} method for ${typeUrl ?? 'ADS'}`);
  return method.path;
}

/** A gRPC message frame: `[compressed flag][u32 length][bytes]`. */
export function grpcFrame(bytes: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + bytes.length);
  frame.writeUInt32BE(bytes.length, 1);
  frame.set(bytes, 5);
  return frame;
}

/** The framed bytes of a SotW request. */
export function sotwRequest(init: MessageInitShape<typeof DiscoveryRequestSchema>): Buffer {
  return grpcFrame(toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, init)));
}

/** How a raw stream ended. */
export interface RawEnd {
  /** The HTTP/2 RST_STREAM code (0 when the stream closed cleanly). */
  readonly rstCode: number;
  /** `grpc-status`, when the server sent one (in trailers or a trailers-only response). */
  readonly grpcStatus: number | undefined;
  /** `grpc-message`, decoded. */
  readonly grpcMessage: string | undefined;
}

/** One HTTP/2 connection to the server, with as many raw streams as a test opens. */
export class RawConnection {
  readonly session: ClientHttp2Session;

  /**
   * `window`: the initial flow-control window of every stream (0: the server can send no data at all);
   * `localAddress`: the loopback address to connect from (127.0.0.2 and friends are distinct peers).
   */
  constructor(port: number, options: { window?: number; localAddress?: string } = {}) {
    this.session = connect(`http://127.0.0.1:${port}`, {
      settings: { initialWindowSize: options.window ?? 65_535 },
      ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
    });
    this.session.on('error', () => {});
  }

  /** Opens a stream (sends its headers); nothing else is sent. */
  open(path: string = methodPathOf('sotw')): RawStream {
    return new RawStream(
      this.session.request({
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/grpc',
        te: 'trailers',
      }),
    );
  }

  /** Grants every stream a window of `bytes`, so that a stream that could not receive data now can. */
  grant(bytes: number): void {
    this.session.settings({ initialWindowSize: bytes });
  }

  /** Resolves once the server acknowledged the connection's settings (every earlier stream reached it). */
  async ping(): Promise<void> {
    const session = this.session;
    if (session.connecting) await new Promise((resolve) => session.once('connect', resolve));
    await new Promise<void>((resolve, reject) => {
      session.ping((error) => (error ? reject(error) : resolve()));
    });
  }

  close(): void {
    this.session.destroy();
  }
}

/** One raw stream: requests go out as written; responses are decoded as data arrives. */
export class RawStream {
  readonly stream: ClientHttp2Stream;
  readonly responses: DiscoveryResponse[] = [];
  readonly ended: Promise<RawEnd>;
  #buffered = Buffer.alloc(0);
  #status: number | undefined;
  #message: string | undefined;

  constructor(stream: ClientHttp2Stream) {
    this.stream = stream;
    stream.on('error', () => {});
    const onHeaders = (headers: Record<string, unknown>) => {
      const code = headers['grpc-status'];
      if (code !== undefined) this.#status = Number(code);
      const message = headers['grpc-message'];
      if (typeof message === 'string') this.#message = decodeURIComponent(message);
    };
    stream.on('response', onHeaders);
    stream.on('trailers', onHeaders);
    stream.on('data', (chunk: Buffer) => this.#data(chunk));
    // The server's end is the end of its half of the stream (a status) or a reset (which closes the stream).
    this.ended = new Promise((resolve) => {
      const ended = () =>
        resolve({ rstCode: stream.rstCode ?? 0, grpcStatus: this.#status, grpcMessage: this.#message });
      stream.on('close', ended);
      stream.on('end', () => {
        ended();
        stream.close();
      });
    });
  }

  /** Resolves when the stream ends, or rejects after `timeoutMs`. */
  end(timeoutMs = 10_000): Promise<RawEnd> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the stream did not end within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.ended.then((end) => {
        clearTimeout(timer);
        resolve(end);
      }, reject);
    });
  }

  /** Writes framed request bytes. */
  write(frame: Buffer): void {
    this.stream.write(frame);
  }

  /** Sends a SotW request. */
  send(init: MessageInitShape<typeof DiscoveryRequestSchema>): void {
    this.write(sotwRequest(init));
  }

  /** Resets the stream from the client side. */
  cancel(): void {
    this.stream.close(constants.NGHTTP2_CANCEL);
  }

  #data(chunk: Buffer): void {
    this.#buffered = Buffer.concat([this.#buffered, chunk]);
    while (this.#buffered.length >= 5) {
      const length = this.#buffered.readUInt32BE(1);
      if (this.#buffered.length < 5 + length) return;
      const bytes = this.#buffered.subarray(5, 5 + length);
      this.responses.push(fromBinary(DiscoveryResponseSchema, bytes));
      this.#buffered = this.#buffered.subarray(5 + length);
    }
  }
}

/** `promise`, or a rejection naming `what` after `timeoutMs`. */
export function within<T>(promise: Promise<T>, what: string, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Polls `check` until it returns true or the deadline passes (a deadline, not a timing assertion). */
export async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
