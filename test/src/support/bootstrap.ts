// grpc-js-xds reads its bootstrap once per process: each interop test file sets it before the first xds channel.
// It starts from examples/grpc/bootstrap.json (or bootstrap-tls.json), the files users copy, so that they are
// proved by real clients.
import { readFileSync } from 'node:fs';

/** The gRPC bootstraps in examples/grpc: plaintext, and TLS (`google_default` channel credentials). */
export type ExampleBootstrap = 'bootstrap.json' | 'bootstrap-tls.json';

/** A gRPC xDS bootstrap (the fields this project's examples use). */
export interface GrpcBootstrap {
  xds_servers: { server_uri: string; channel_creds: { type: string }[]; server_features: string[] }[];
  node: { id: string; locality: Record<string, string> };
}

/** examples/grpc/`file` with its server at `127.0.0.1:port` and its node id set. */
export function exampleGrpcBootstrap(
  port: number,
  nodeId: string,
  file: ExampleBootstrap = 'bootstrap.json',
): GrpcBootstrap {
  const path = new URL(`../../../examples/grpc/${file}`, import.meta.url);
  const bootstrap = JSON.parse(readFileSync(path, 'utf8')) as GrpcBootstrap;
  for (const server of bootstrap.xds_servers) server.server_uri = `127.0.0.1:${port}`;
  bootstrap.node.id = nodeId;
  return bootstrap;
}

/**
 * Points this process's gRPC xDS clients at `127.0.0.1:port` as node `nodeId`, starting from an example bootstrap
 * (grpc-js-xds 1.14 knows the channel credentials `insecure` and `google_default`, which is TLS), and registers the
 * xds resolver.
 */
export async function useXdsServer(
  port: number,
  nodeId: string,
  file: ExampleBootstrap = 'bootstrap.json',
): Promise<void> {
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify(exampleGrpcBootstrap(port, nodeId, file));
  const xds = (await import('@grpc/grpc-js-xds')) as unknown as {
    register?: () => void;
    default?: { register: () => void };
  };
  (xds.register ?? xds.default!.register)();
}
