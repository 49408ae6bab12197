// Runs one case against the target and says whether each call ended as it must: a gRPC status for a call the
// client half-closed, some end (status or the server's reset) for one the server has to end, an HTTP answer for a
// REST request. Two deadlines: a call still open at `lateMs` is late (counted: a starved machine makes calls slow),
// one still open at `hangMs` is a hang (a property failed).
import { Agent, request as httpRequest } from 'node:http';
import { type ClientHttp2Session, type ClientHttp2Stream, connect, constants } from 'node:http2';
import type { FuzzCase, RestCase, StreamPlan, StreamsCase } from './case.js';

/** How one call of a case ended. */
export interface CallResult {
  /** The gRPC status, when one came (in trailers or a trailers-only answer). */
  readonly status?: number;
  /** The HTTP status of a REST answer. */
  readonly http?: number;
  /** The RST_STREAM code the stream closed with (0 when it closed cleanly). */
  readonly rstCode?: number;
  /** The client library refused to send it (headers Node's http2 or http will not send). */
  readonly refused?: string;
  /** The server reset the stream (or closed its connection) without a gRPC status. */
  readonly reset?: boolean;
  /** It ended after the late deadline. */
  readonly late?: boolean;
}

/** When a call is late (counted) and when it is a hang (a failure), in ms from its start. */
export interface Deadlines {
  readonly lateMs: number;
  readonly hangMs: number;
}

/** The outcome of a case: its calls, and the first property it broke. */
export interface CaseResult {
  readonly calls: readonly CallResult[];
  readonly failure?: string;
}

/** The shared HTTP/2 sessions and the REST agent the cases use. */
export class Connections {
  readonly #grpcUrl: string;
  readonly #restPort: number;
  readonly #sessions: (ClientHttp2Session | undefined)[];
  // Idle sockets close on the client's side after 2 s, before the server's keep-alive timeout (5 s) closes them
  // under a request the client just sent on one (Node's documented reuse race).
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 16, timeout: 2000 });
  #next = 0;

  constructor(grpcPort: number, restPort: number, sessions = 4) {
    this.#grpcUrl = `http://127.0.0.1:${grpcPort}`;
    this.#restPort = restPort;
    this.#sessions = new Array(sessions).fill(undefined);
  }

  /**
   * One of the shared sessions, round-robin; a closed one is replaced, and so is one that has reset
   * {@link maxResetsPerSharedSession} streams (closed gracefully: its calls end as they would).
   */
  shared(): ClientHttp2Session {
    const i = this.#next++ % this.#sessions.length;
    let session = this.#sessions[i];
    if (session !== undefined && (sessionNotes.get(session)?.resets ?? 0) >= maxResetsPerSharedSession)
      session.close();
    if (session === undefined || session.closed || session.destroyed) {
      session = this.open();
      this.#sessions[i] = session;
    }
    return session;
  }

  /** A new session with the given settings. */
  open(settings: { initialWindowSize?: number } = {}): ClientHttp2Session {
    const session = connect(this.#grpcUrl, { settings });
    const notes: SessionNotes = {};
    sessionNotes.set(session, notes);
    session.on('error', (error: Error & { code?: string }) => {
      notes.error ??= `${error.code ?? 'error'}: ${error.message}`;
    });
    session.on('goaway', (code, lastStreamId) => {
      notes.goaway ??= { code, lastStreamId, at: performance.now() };
    });
    session.on('close', () => {
      notes.closedAt ??= performance.now();
    });
    return session;
  }

  get restPort(): number {
    return this.#restPort;
  }

  get agent(): Agent {
    return this.#agent;
  }

  /** Closes every session and the agent. */
  close(): void {
    for (const session of this.#sessions) session?.destroy();
    this.#sessions.fill(undefined);
    this.#agent.destroy();
  }
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs a case; every call must end as its plan expects before `deadlines.hangMs`. */
export async function runCase(
  c: FuzzCase,
  connections: Connections,
  deadlines: Deadlines,
): Promise<CaseResult> {
  if (c.transport === 'rest') return runRest(c, connections, deadlines);
  return runStreams(c, connections, deadlines);
}

async function runStreams(
  c: StreamsCase,
  connections: Connections,
  deadlines: Deadlines,
): Promise<CaseResult> {
  // A large case gets a session of its own: the server's HTTP/2 layer bounds the memory of one session
  // (maxSessionMemory) and refuses streams past it, which would land on whichever small case shares it.
  const bytes = c.streams.reduce((n, s) => n + s.chunks.reduce((m, b) => m + b.length, 0), 0);
  const own = c.ownSession ?? (bytes > 256 * 1024 ? {} : undefined);
  const session =
    own === undefined
      ? connections.shared()
      : connections.open(
          own.initialWindowSize === undefined ? {} : { initialWindowSize: own.initialWindowSize },
        );
  try {
    if (own?.pings !== undefined) for (let i = 0; i < own.pings; i++) session.ping(() => {});
    let destroyed = false;
    const runs = c.streams.map((plan) => runStream(session, plan, deadlines, () => destroyed));
    if (own?.destroy) {
      await delay(Math.max(0, ...c.streams.map((s) => s.holdMs ?? 0)));
      destroyed = true;
      session.destroy();
    }
    const results = await Promise.all(runs);
    const calls = results.map((r) => r.call);
    const failure = results.find((r) => r.failure !== undefined)?.failure;
    return failure === undefined ? { calls } : { calls, failure };
  } finally {
    if (own !== undefined) session.close();
  }
}

interface StreamOutcome {
  readonly call: CallResult;
  readonly failure?: string;
}

function runStream(
  session: ClientHttp2Session,
  plan: StreamPlan,
  deadlines: Deadlines,
  destroyed: () => boolean,
): Promise<StreamOutcome> {
  const headers: Record<string, string> = {
    ':method': 'POST',
    ':path': plan.path,
    'content-type': 'application/grpc',
    te: 'trailers',
  };
  for (const [key, value] of Object.entries(plan.headers ?? {})) {
    if (value === null) delete headers[key];
    else headers[key] = value;
  }
  let stream: ClientHttp2Stream;
  try {
    stream = session.request(headers, { endStream: false });
  } catch (error) {
    return Promise.resolve({ call: { refused: (error as Error).message } });
  }
  const startedAt = performance.now();
  /** How far the client got: chunks written, then the half-close (for the no-status message). */
  let progress = 'writing its request';
  return new Promise((resolve) => {
    let status: number | undefined;
    let settled = false;
    let late = false;
    const settle = (outcome: StreamOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(lateTimer);
      clearTimeout(timer);
      resolve(late ? { ...outcome, call: { ...outcome.call, late } } : outcome);
    };
    const takeStatus = (h: Record<string, unknown>) => {
      const value = h['grpc-status'];
      if (value === undefined) return;
      status = Number(value);
      // The call ended with a status: that is the answer, even if the client still has bytes queued behind flow
      // control (the server need not read a request it refused); the stream is then let go.
      settle({ call: { status } });
      setImmediate(() => cancel(session, stream));
    };
    let headersSeen = false;
    let received = 0;
    stream.on('response', (h) => {
      headersSeen = true;
      takeStatus(h);
    });
    stream.on('trailers', takeStatus);
    stream.on('error', () => {});
    stream.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    if (plan.paused) stream.pause();
    const lateTimer = setTimeout(() => {
      late = true;
    }, deadlines.lateMs);
    const timer = setTimeout(() => {
      const flow = flowState(session, stream, startedAt);
      cancel(session, stream);
      settle({
        call: {},
        failure:
          `hang: ${plan.path} did not end within ${deadlines.hangMs} ms (client end: ${plan.end}, ${plan.chunks.length} ` +
          `chunk(s); response headers ${headersSeen ? 'received' : 'not received'}, ${received} bytes of data; ` +
          `${flow})`,
      });
    }, deadlines.hangMs);
    stream.on('close', () => {
      if (status !== undefined) return;
      const byClient = plan.end === 'cancel' || destroyed();
      const call: CallResult = { rstCode: stream.rstCode, reset: !byClient };
      // REFUSED_STREAM and ENHANCE_YOUR_CALM are the HTTP/2 layer's own answers to a client that overloads it.
      const refusedByServer =
        stream.rstCode === constants.NGHTTP2_REFUSED_STREAM ||
        stream.rstCode === constants.NGHTTP2_ENHANCE_YOUR_CALM;
      if (plan.expect === 'status' && !refusedByServer) {
        const closed = session.destroyed || session.closed;
        const reason = closed
          ? `its session closed (${sessionEnd(session, startedAt)})`
          : `RST_STREAM ${stream.rstCode}`;
        settle({
          call,
          failure:
            `no gRPC status: ${plan.path} (stream ${stream.id ?? '?'}) ended by ${reason}, ` +
            `${Math.round(performance.now() - startedAt)} ms after it started, the client ${progress}`,
        });
        return;
      }
      settle({ call });
    });
    void (async () => {
      for (const chunk of plan.chunks) {
        if (stream.destroyed) return;
        stream.write(chunk);
      }
      progress = `having queued its ${plan.chunks.length} chunk(s)`;
      if ((plan.holdMs ?? 0) > 0) await delay(plan.holdMs!);
      if (stream.destroyed) return;
      if (plan.end === 'half-close') {
        progress = 'having half-closed';
        if (plan.paused && !plan.neverRead) {
          // A reader that catches up: it reads, and opens a window it may have set to zero.
          session.settings({ initialWindowSize: 65_535 });
          stream.resume();
        }
        stream.end();
      } else if (plan.end === 'cancel') cancel(session, stream);
    })();
  });
}

function runRest(c: RestCase, connections: Connections, deadlines: Deadlines): Promise<CaseResult> {
  return new Promise((resolve) => {
    let settled = false;
    let late = false;
    let request: ReturnType<typeof httpRequest> | undefined;
    const finish = (result: CaseResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(lateTimer);
      clearTimeout(timer);
      resolve(late ? { ...result, calls: result.calls.map((call) => ({ ...call, late })) } : result);
    };
    const lateTimer = setTimeout(() => {
      late = true;
    }, deadlines.lateMs);
    const timer = setTimeout(() => {
      request?.destroy();
      finish({
        calls: [{}],
        failure: `hang: REST ${c.method} ${c.path.slice(0, 80)} had no answer within ${deadlines.hangMs} ms`,
      });
    }, deadlines.hangMs);
    const send = (fresh: boolean) => {
      try {
        request = httpRequest(
          {
            host: '127.0.0.1',
            port: connections.restPort,
            method: c.method,
            path: c.path,
            headers: { ...c.headers, 'content-length': String(c.body.length) },
            agent: fresh ? false : connections.agent,
          },
          (response) => {
            response.on('data', () => {});
            response.on('error', () => finish({ calls: [{ http: response.statusCode ?? 0 }] }));
            response.on('end', () => finish({ calls: [{ http: response.statusCode ?? 0 }] }));
          },
        );
      } catch (error) {
        finish({ calls: [{ refused: (error as Error).message }] });
        return;
      }
      const sent = request;
      sent.on('error', (error) => {
        // A kept-alive socket the server closed as idle just as it was reused (Node's documented race; on a
        // starved machine timers fire seconds late): the request goes again on a connection of its own, which
        // must not fail.
        if (!fresh && sent.reusedSocket) send(true);
        else
          finish({
            calls: [{}],
            failure: `REST ${c.method} ${c.path.slice(0, 80)}: connection failed: ${error.message} (${fresh ? 'a connection of its own, after a kept-alive one failed' : 'a new kept-alive connection'})`,
          });
      });
      sent.end(c.body);
    };
    send(false);
  });
}

/** What happened to a session, for the no-status and hang messages: which side ended it, and how. */
/**
 * Streams a shared session resets (RST_STREAM CANCEL from the client: cancelled calls, and calls let go once they
 * have their status) before it is replaced. nghttp2's rapid-reset defence (CVE-2023-44487; Node 20.20.2 and later)
 * ends a connection whose peer resets more than a burst of 1,000 streams, refilled at 33 a second, with GOAWAY 2
 * and no session error on the server: fuzz finding 7 was the driver's own shared session meeting it, with the other
 * calls on it left without a status. Half the burst leaves room for the cases in flight.
 */
export const maxResetsPerSharedSession = 500;

/** Resets `stream` from the client (CANCEL), counted against its session (see {@link maxResetsPerSharedSession}). */
function cancel(session: ClientHttp2Session, stream: ClientHttp2Stream): void {
  if (stream.closed) return;
  const notes = sessionNotes.get(session);
  if (notes !== undefined) notes.resets = (notes.resets ?? 0) + 1;
  stream.close(constants.NGHTTP2_CANCEL);
}

interface SessionNotes {
  /** Streams the client reset on it. */
  resets?: number;
  /** The first GOAWAY the server sent, and when (performance.now()). */
  goaway?: { code: number; lastStreamId: number; at: number };
  /** The first error the session reported (a GOAWAY with an error code, a protocol error, a socket error). */
  error?: string;
  /** When the session closed. */
  closedAt?: number;
}

const sessionNotes = new WeakMap<ClientHttp2Session, SessionNotes>();

/**
 * How a session ended, relative to a call that started at `startedAt`: the server's GOAWAY (code, last stream id,
 * when), the session's error, or neither (the connection closed under it with no GOAWAY).
 */
function sessionEnd(session: ClientHttp2Session, startedAt: number): string {
  const notes = sessionNotes.get(session) ?? {};
  const at = (t: number) => `${Math.round(t - startedAt)} ms after the call started`;
  const parts: string[] = [];
  if (notes.goaway !== undefined)
    parts.push(
      `the server sent GOAWAY ${notes.goaway.code} (last stream ${notes.goaway.lastStreamId}) ${at(notes.goaway.at)}`,
    );
  else parts.push('no GOAWAY received');
  if (notes.resets !== undefined) parts.push(`${notes.resets} streams reset by the client on it`);
  if (notes.error !== undefined) parts.push(`session error ${notes.error}`);
  if (notes.closedAt !== undefined) parts.push(`session closed ${at(notes.closedAt)}`);
  else parts.push(session.destroyed ? 'session destroyed' : 'session closing');
  return parts.join(', ');
}

/** The flow-control state of a hung stream and its session, for the hang message. */
function flowState(session: ClientHttp2Session, stream: ClientHttp2Stream, startedAt: number): string {
  const s = session.state;
  const t = stream.closed ? undefined : stream.state;
  return (
    `session: send window ${s.remoteWindowSize}, outbound queue ${s.outboundQueueSize}, ` +
    `receive window ${s.localWindowSize}, ${session.destroyed ? 'destroyed' : session.closed ? 'closed' : 'open'}` +
    `${session.closed || session.destroyed ? ` (${sessionEnd(session, startedAt)})` : ''}; ` +
    `stream: ${t === undefined ? 'closed' : `id ${stream.id}, h2 state ${t.state}, ${stream.writableLength} bytes queued${stream.pending ? ', pending' : ''}`}`
  );
}
