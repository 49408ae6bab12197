// The HTTP/2 servers a grpc-js server listens with, which the session guard (rule L4) and the connection limits
// (rule L2) hook. grpc-js has no public way to reach them: this reads its `http2Servers` map (grpc-js 1.14), one
// entry per address bound so far, and says when that is not there (another grpc-js layout).
import type { Http2SecureServer, Http2Server } from 'node:http2';
import type { Server } from '@grpc/grpc-js';

/** An HTTP/2 server grpc-js made: plaintext or TLS. */
export type GrpcHttp2Server = Http2Server | Http2SecureServer;

/** The HTTP/2 servers of `server`'s `bindAsync` calls so far, or undefined when grpc-js keeps them elsewhere. */
export function http2ServersOf(server: Server): GrpcHttp2Server[] | undefined {
  const servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(servers instanceof Map)) return undefined;
  return [...(servers.keys() as IterableIterator<GrpcHttp2Server>)].filter(
    (http2Server) => typeof http2Server?.on === 'function',
  );
}
