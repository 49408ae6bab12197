// Keeps Node 20's HTTP/2 from aborting the process when a client leaves a header block unfinished (rule L4: no
// input takes the server down; docs/security.md, "Known issue").
//
// The abort, `Http2Session::~Http2Session(): Assertion (current_nghttp2_memory_) == (0) failed`, needs three
// things a client can arrange alone: (1) on a stream the server answers, it starts a second header block
// (trailers: HEADERS without END_HEADERS) and never finishes it, so the stream holds header buffers that nghttp2
// allocated and the session counts; (2) it never reads, so the server's response data sits in a socket write
// that does not complete; (3) the session is destroyed while that write is pending (grpc-js does so when its
// keepalive ping goes unanswered, which a client that does not read never answers). A stream destroyed with data
// still on the socket is not freed at once: Node leaves it to the garbage collector. When the client then drops
// the connection, the session and that stream become garbage together, and if the collector frees the session
// first, the session finds the stream's header memory still counted and aborts. Node 22.23.2 and 24.18.1 are
// not affected; Node 20 gets no fix.
//
// The guard makes the session outlive its streams: for each stream, it registers the stream's JavaScript object
// in a FinalizationRegistry with the session's native handle as the held value. The registry holds that handle
// until the stream has been collected, and Node frees a stream's native part in the same collection as its
// JavaScript object (the native handle points to it), so the session is freed later, with nothing counted.
// A closed session lives until its streams are collected (the next collections), not longer.
import type { Http2Session, ServerHttp2Stream } from 'node:http2';
import type { Server } from '@grpc/grpc-js';
import { type GrpcHttp2Server, http2ServersOf } from './grpc-http2-servers.js';

/** Holds each session's native handle while any of its streams is alive; the callback has nothing to do. */
const holds = new FinalizationRegistry<object>(() => {});

/** The symbol under which Node keeps a session's native handle (`kHandle`), found on the first session. */
let handleKey: symbol | undefined;

/** The native handle of a live session, or undefined (the session is gone, or Node keeps it elsewhere). */
function nativeHandle(session: Http2Session): object | undefined {
  handleKey ??= Object.getOwnPropertySymbols(session).find((s) => s.description === 'kHandle');
  if (handleKey === undefined) return undefined;
  const handle = (session as unknown as Record<symbol, unknown>)[handleKey];
  return typeof handle === 'object' && handle !== null ? handle : undefined;
}

/** Makes `stream`'s session outlive it. Returns false when the session's native handle cannot be found. */
export function guardStream(stream: ServerHttp2Stream): boolean {
  const session = stream.session;
  if (session === undefined) return false;
  const handle = nativeHandle(session);
  if (handle === undefined) return false;
  holds.register(stream, handle);
  return true;
}

const guarded = new WeakSet<GrpcHttp2Server>();

/**
 * Guards every stream of the HTTP/2 servers a grpc-js server listens with (rule L4; Node 20 aborts without it, see
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
    http2Server.on('stream', (stream: ServerHttp2Stream) => {
      guardStream(stream);
    });
  }
  return true;
}
