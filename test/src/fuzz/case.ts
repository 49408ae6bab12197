// What one fuzz case is, as data: HTTP/2 streams with their headers, the exact bytes written and how each ends,
// or one REST request. A case is generated from (seed, index) by cases.ts, replayed from the same pair, and saved
// to a JSON file (bytes in hex) when it breaks a property, so that a failure can be rerun and shrunk.

/** How a stream of a case ends on the client's side. */
export type StreamEnd =
  /** END_STREAM after the last chunk (a client half-close): the server must end the call. */
  | 'half-close'
  /** RST_STREAM(CANCEL) after the last chunk and `holdMs`. */
  | 'cancel'
  /** Nothing: the server has to end it (a stream that never sends a request, a reader that never reads). */
  | 'leave';

/** What the stream must get back: a gRPC status, any end (status or the server's RST_STREAM), or nothing. */
export type Expect = 'status' | 'end' | 'none';

/** One HTTP/2 stream of a case. */
export interface StreamPlan {
  /** `:path`. */
  readonly path: string;
  /** Headers that replace or add to the usual gRPC ones; a null value removes one. */
  readonly headers?: Readonly<Record<string, string | null>>;
  /** Bytes written, one write each (gRPC framing included, possibly wrong). */
  readonly chunks: readonly Buffer[];
  /** How the client ends it. */
  readonly end: StreamEnd;
  /** Milliseconds between the last write and the end (a slow client, a header-only stream). */
  readonly holdMs?: number;
  /** The client does not read the stream (with a small window, a reader that fell behind) until it ends it. */
  readonly paused?: boolean;
  /** With `paused`: the client never reads, not even after its half-close. */
  readonly neverRead?: boolean;
  /** What the stream must get back. */
  readonly expect: Expect;
}

/** A case on HTTP/2 streams: on the shared sessions, or on a session of its own with odd settings. */
export interface StreamsCase {
  readonly kind: string;
  readonly transport: 'h2';
  /** A session of its own: for cases that may make the server close the connection, or change its settings. */
  readonly ownSession?: {
    readonly initialWindowSize?: number;
    /** PING frames sent at once. */
    readonly pings?: number;
    /** Destroy the socket after `holdMs` instead of closing the session cleanly. */
    readonly destroy?: boolean;
  };
  readonly streams: readonly StreamPlan[];
}

/** A case that is one REST request. */
export interface RestCase {
  readonly kind: string;
  readonly transport: 'rest';
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** One fuzz case. */
export type FuzzCase = StreamsCase | RestCase;

/** The case in JSON (bytes as hex), for the failure file and `--replay`. */
export function caseToJson(c: FuzzCase): unknown {
  return JSON.parse(
    JSON.stringify(c, (_key, value: unknown) =>
      value !== null && typeof value === 'object' && (value as { type?: string }).type === 'Buffer'
        ? { hex: Buffer.from((value as { data: number[] }).data).toString('hex') }
        : value,
    ),
  );
}

/** A case from {@link caseToJson}'s form. */
export function caseFromJson(json: unknown): FuzzCase {
  return JSON.parse(JSON.stringify(json), (_key, value: unknown) =>
    value !== null && typeof value === 'object' && typeof (value as { hex?: unknown }).hex === 'string'
      ? Buffer.from((value as { hex: string }).hex, 'hex')
      : value,
  ) as FuzzCase;
}

/** A short description: kind, streams, bytes. */
export function describeCase(c: FuzzCase): string {
  if (c.transport === 'rest') return `${c.kind}: ${c.method} ${c.path} with ${c.body.length} bytes`;
  const bytes = c.streams.reduce((n, s) => n + s.chunks.reduce((m, b) => m + b.length, 0), 0);
  const paths = [...new Set(c.streams.map((s) => s.path.split('/').pop()))].join(', ');
  return `${c.kind}: ${c.streams.length} stream(s) (${paths}), ${bytes} bytes${c.ownSession ? ', own session' : ''}`;
}
