// The server of session-guard.test.ts, in a process of its own: the abort that test provokes (Node 20's
// `Http2Session::~Http2Session` assertion) ends the whole process, so the server must not run in the test's.
// It holds every HTTP/2 stream's native handle until told, so that the collector frees a dead session before its
// streams: the order that aborts an unguarded server (without it, the order is the collector's, about half the time).
// It serves node `victim` (one small cluster, then on `push` 6 MB of clusters, more than loopback's socket buffers
// hold) and node `bystander`, and answers the test over IPC. It reaches grpc-js's HTTP/2 sessions through grpc-js
// internals only to observe them (the HPACK table) and to destroy them as grpc-js's keepalive does.
// Its argument says whose grpc-js server it runs: `listen` (XdsServer.listen's own, guarded), `own-guarded` (an
// application's server with the services mounted by `addTo` and guarded by the exported `guardGrpcServer`), or
// `own-unguarded` (the same without the guard: Node 20 aborts on the attack).
import type { Http2Server, ServerHttp2Session, ServerHttp2Stream } from 'node:http2';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { Snapshot, SnapshotCache } from '@xds/cache';
import { makeCluster } from '@xds/generator';
import { guardGrpcServer, XdsServer } from './index.js';

/** Whose grpc-js server the target runs. */
export type AbortTargetMode = 'listen' | 'own-guarded' | 'own-unguarded';

/** From the test to this process. */
export type AbortTargetRequest =
  /** Answer once `victim` has been sent its first response. */
  | { readonly type: 'responded' }
  /** Answer once a session has decoded at least `bytes` of indexed headers (its HPACK table holds them). */
  | { readonly type: 'decoded'; readonly bytes: number }
  /** Push 6 MB to `victim`; answer once the socket holds bytes the kernel would not take. */
  | { readonly type: 'push' }
  /** Destroy every session (as grpc-js does when a keepalive ping goes unanswered). */
  | { readonly type: 'destroy' }
  /** Collect garbage (old and young generations, three times); answer after. */
  | { readonly type: 'gc' }
  /** Let go of the HTTP/2 streams this process holds (until then, each stream outlives its session). */
  | { readonly type: 'release' };

/** From this process to the test. */
export type AbortTargetReply =
  | { readonly type: 'ready'; readonly port: number }
  | { readonly type: 'done'; readonly of: AbortTargetRequest['type'] };

const cache = new SnapshotCache();
const long = 'x'.repeat(1000);
const big = Snapshot.create(
  Array.from({ length: 6000 }, (_, i) => makeCluster({ name: `c${i}-${long}` })),
  { version: 'big' },
);
cache.setSnapshot('victim', Snapshot.create([makeCluster({ name: 'small' })], { version: 'small' }));
cache.setSnapshot('bystander', Snapshot.create([makeCluster({ name: 'b' })], { version: 'b1' }));
const server = new XdsServer({ cache });
const mode = (process.argv[2] ?? 'listen') as AbortTargetMode;
/** The grpc-js server that listens: XdsServer's own, or an application's with the services mounted on it. */
let grpcServer: Server;
let port: number;
if (mode === 'listen') {
  port = await server.listen('127.0.0.1:0');
  grpcServer = server.grpcServer;
} else {
  grpcServer = new Server();
  server.addTo(grpcServer);
  port = await new Promise<number>((resolve, reject) =>
    grpcServer.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  if (mode === 'own-guarded' && !guardGrpcServer(grpcServer)) throw new Error('guardGrpcServer failed');
}

let victimResponses = 0;
server.on('response', (event) => {
  if (event.nodeId === 'victim') victimResponses++;
});

const sessions = new Set<ServerHttp2Session>();
// The streams' native handles, held past their session's end, so that the collector meets the session first:
// the order that aborts. (Node keeps a stream's native part alive as long as its handle object.)
let held: object[] = [];
function nativeHandleOf(stream: ServerHttp2Stream): object {
  const key = Object.getOwnPropertySymbols(stream).find((s) => s.description === 'kHandle');
  const handle = key === undefined ? undefined : (stream as unknown as Record<symbol, unknown>)[key];
  if (typeof handle !== 'object' || handle === null) throw new Error('no native handle on the HTTP/2 stream');
  return handle;
}
const internals = grpcServer as unknown as { http2Servers: Map<Http2Server, unknown> };
for (const http2Server of internals.http2Servers.keys()) {
  http2Server.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  http2Server.on('stream', (stream: ServerHttp2Stream) => held.push(nativeHandleOf(stream)));
}

/** Bytes libuv holds for the session's socket that the kernel has not taken (the client does not read). */
function writeQueueSize(session: ServerHttp2Session): number {
  const handle = (session.socket as unknown as { _handle?: { writeQueueSize?: number } })._handle;
  return handle?.writeQueueSize ?? 0;
}

function send(reply: AbortTargetReply): void {
  process.send?.(reply);
}

/** Polls `check` every 10 ms (at most 60 s), then answers `done`. */
function answerWhen(of: AbortTargetRequest['type'], check: () => boolean): void {
  const deadline = Date.now() + 60_000;
  const poll = () => {
    if (check() || Date.now() > deadline) send({ type: 'done', of });
    else setTimeout(poll, 10);
  };
  poll();
}

process.on('message', (request: AbortTargetRequest) => {
  switch (request.type) {
    case 'responded':
      answerWhen('responded', () => victimResponses > 0);
      break;
    case 'decoded':
      answerWhen('decoded', () =>
        [...sessions].some((s) => (s.state.inflateDynamicTableSize ?? 0) >= request.bytes),
      );
      break;
    case 'push': {
      cache.setSnapshot('victim', big);
      // Written to the socket and stuck there: libuv holds bytes the kernel would not take.
      answerWhen('push', () => [...sessions].some((session) => writeQueueSize(session) > 0));
      break;
    }
    case 'destroy':
      for (const session of sessions) session.destroy();
      send({ type: 'done', of: 'destroy' });
      break;
    case 'release':
      held = [];
      send({ type: 'done', of: 'release' });
      break;
    case 'gc': {
      const gc = (globalThis as { gc?: (options?: { type: 'minor' | 'major' }) => void }).gc;
      for (let i = 0; i < 3; i++) {
        gc?.();
        gc?.({ type: 'minor' });
      }
      send({ type: 'done', of: 'gc' });
      break;
    }
  }
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', port });
