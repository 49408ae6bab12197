// Makes the connections the server ends on an error visible (rule L4: every way a client loses its config shows).
// Node ends an HTTP/2 session with GOAWAY(INTERNAL_ERROR) when the session fails: an nghttp2 error while reading
// the peer's frames (a protocol error, a flood of frames needing answers, a callback refusing a stream past
// Node's `maxSessionRejectedStreams`), a socket error, or a frame it could not send. grpc-js swallows the error
// (a trace line at most), so every stream on that connection ended with no status and no sign on the server.
// Fuzz finding 7 (docs/fuzzing.md) was such a connection. Here each session error is counted by its code, the
// latest few are kept for status pages, and a warning is logged at most once per code per 10 s.
import type { Http2Session } from 'node:http2';
import type { Logger } from './logger.js';

/** One session error, as kept for {@link SessionErrorStats.recent}. */
export interface SessionErrorRecord {
  /** When it happened (ISO 8601). */
  readonly at: string;
  /** The peer's address, or `unknown`. */
  readonly peer: string;
  /** The error's code (`ERR_HTTP2_ERROR`, `ECONNRESET`, …) or, for a frame Node could not send, `frameError`. */
  readonly code: string;
  /** The error's message, cut to {@link maxSessionErrorMessageChars} characters. */
  readonly message: string;
}

/** What {@link XdsServer.connectionStats} reports of sessions ended by an error. */
export interface SessionErrorStats {
  /** Sessions that failed since start, by error code (at most {@link maxSessionErrorCodes} codes, the rest `other`). */
  readonly byCode: Readonly<Record<string, number>>;
  /** The latest {@link keptSessionErrors} errors, oldest first. */
  readonly recent: readonly SessionErrorRecord[];
}

/** How many of the latest session errors are kept. */
export const keptSessionErrors = 8;
/** Distinct error codes counted apart; later ones count under `other`. */
export const maxSessionErrorCodes = 32;
/** The longest message kept (characters). */
export const maxSessionErrorMessageChars = 200;
/** The shortest time between two log lines about one code (ms). */
export const sessionErrorLogIntervalMs = 10_000;

/** Counts, keeps and logs the errors of the HTTP/2 sessions it is given. */
export class SessionErrors {
  readonly #logger: Logger;
  readonly #byCode = new Map<string, number>();
  readonly #recent: SessionErrorRecord[] = [];
  readonly #logged = new Map<string, { at: number; since: number }>();

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Watches `session` until it closes. */
  watch(session: Http2Session): void {
    const peer = session.socket?.remoteAddress ?? 'unknown';
    session.on('error', (error: unknown) => {
      const code =
        typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : 'error';
      this.#record(peer, code, error instanceof Error ? error.message : String(error));
    });
    session.on('frameError', (type: number, code: number, streamId: number) => {
      this.#record(peer, 'frameError', `frame of type ${type} on stream ${streamId} not sent (code ${code})`);
    });
  }

  /** The counts and the latest errors. */
  stats(): SessionErrorStats {
    return { byCode: Object.fromEntries(this.#byCode), recent: [...this.#recent] };
  }

  #record(peer: string, code: string, message: string): void {
    const key = this.#byCode.has(code) || this.#byCode.size < maxSessionErrorCodes ? code : 'other';
    this.#byCode.set(key, (this.#byCode.get(key) ?? 0) + 1);
    const cut =
      message.length > maxSessionErrorMessageChars
        ? `${message.slice(0, maxSessionErrorMessageChars)}…`
        : message;
    this.#recent.push({ at: new Date().toISOString(), peer, code, message: cut });
    if (this.#recent.length > keptSessionErrors) this.#recent.shift();
    const now = Date.now();
    const state = this.#logged.get(key);
    if (state !== undefined && now - state.at < sessionErrorLogIntervalMs) {
      state.since++;
      return;
    }
    this.#logged.set(key, { at: now, since: 0 });
    this.#logger.warn(
      { peer, code, errorsSincePreviousLine: (state?.since ?? 0) + 1 },
      `HTTP/2 connection ended by an error (every stream on it ended without a status): ${cut}`,
    );
  }
}
