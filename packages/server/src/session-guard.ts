// Keeps Node 20's HTTP/2 from aborting the process when a session is freed before a stream it made (rule L4: no
// input takes the server down; docs/security.md, "Known issue").
//
// The abort, `Http2Session::~Http2Session(): Assertion (current_nghttp2_memory_) == (0) failed`, comes from one
// state: a session is freed while a stream object it made still holds header memory that nghttp2 allocated for the
// session (the buffers of a header block received in part, or refused half-way). The session's destructor frees
// the streams still in its map; a stream already removed from the map (destroyed) is freed on its own, on the next
// turn of the event loop or, when its response data still sits in a socket write, by the garbage collector, and
// until then its header buffers count against the session. Node 22.23.5 and 24.22.3 fixed it ("http2: release
// headers when a stream is removed", "retain streams during pending writes"); Node 20 is past its end of life.
// One client-reachable way is tested (session-guard.test.ts): unfinished trailers, a client that never reads, and
// the session destroyed mid-write.
//
// The guard makes every session outlive its streams, whatever the way. It holds each session's native handle from
// its start until it has closed and two more turns of the event loop have run (every stream the session removed
// from its map has then been freed, or handed to the collector), and registers each stream the session emits, its
// JavaScript object and its native handle, in a FinalizationRegistry with the session's handle as the held value,
// so that the session is also held until every such stream has been collected. The session's 'stream' event names
// the session even when the stream was destroyed before the event (the stream then no longer knows its session).
// The cost: a closed session's native part lives until those turns and collections.
import type { Http2Session, ServerHttp2Stream } from 'node:http2';
import type { Server } from '@grpc/grpc-js';
import { type GrpcHttp2Server, http2ServersOf } from './grpc-http2-servers.js';

/** Holds a session's native handle while any stream it emitted is alive; the callback has nothing to do. */
const streamHolds = new FinalizationRegistry<object>(() => {});

/** The native handles of sessions not yet closed (and two turns more). */
const liveSessions = new Set<object>();

/** The symbol under which Node keeps a session's or stream's native handle (`kHandle`), found on the first. */
let handleKey: symbol | undefined;

/** The native handle of a live session or stream, or undefined (it is gone, or Node keeps it elsewhere). */
function nativeHandleOf(owner: Http2Session | ServerHttp2Stream): object | undefined {
  handleKey ??= Object.getOwnPropertySymbols(owner).find((s) => s.description === 'kHandle');
  if (handleKey === undefined) return undefined;
  const handle = (owner as unknown as Record<symbol, unknown>)[handleKey];
  return typeof handle === 'object' && handle !== null ? handle : undefined;
}

/** Sessions guarded so far by this module, for tests and figures: how many native handles it holds now. */
export function guardedSessionCount(): number {
  return liveSessions.size;
}

/**
 * Makes `session` outlive its streams: its native handle is held until it has closed (plus two turns of the event
 * loop) and every stream it emits has been collected. Returns false when the native handle cannot be found (the
 * session is already destroyed, or another Node keeps it elsewhere).
 */
export function guardSession(session: Http2Session): boolean {
  const handle = nativeHandleOf(session);
  if (handle === undefined) return false;
  liveSessions.add(handle);
  session.on('stream', (stream: ServerHttp2Stream) => {
    streamHolds.register(stream, handle);
    const streamHandle = nativeHandleOf(stream);
    if (streamHandle !== undefined) streamHolds.register(streamHandle, handle);
  });
  session.once('close', () => {
    setImmediate(() => setImmediate(() => liveSessions.delete(handle)));
  });
  return true;
}

const guarded = new WeakSet<GrpcHttp2Server>();

/**
 * Guards every session of the HTTP/2 servers a grpc-js server listens with (rule L4; Node 20 aborts without it, see
 * docs/security.md "Known issue"). `XdsServer.listen` does it for its own server; an application that mounts the
 * xDS services on its own grpc-js server (`addTo`) calls it after each `bindAsync` has called back (it guards the
 * servers bound so far; calling it again is harmless). grpc-js has no public way to reach those servers: this reads
 * its `http2Servers` map (grpc-js 1.14) and returns false when that is not there (another grpc-js layout: the
 * server then runs unguarded).
 */
export function guardGrpcServer(server: Server): boolean {
  const servers = http2ServersOf(server);
  if (servers === undefined) return false;
  for (const http2Server of servers) {
    if (guarded.has(http2Server)) continue;
    guarded.add(http2Server);
    http2Server.on('session', (session: Http2Session) => {
      guardSession(session);
    });
  }
  return true;
}
