// grpc-js-xds reads its bootstrap once per process: each interop test file sets it before the first xds channel.
// It starts from examples/grpc/bootstrap.json, the file users copy, so that file is proved by real clients.
import { readFileSync } from 'node:fs';

const examplePath = new URL('../../../examples/grpc/bootstrap.json', import.meta.url);

/** A gRPC xDS bootstrap (the fields this project's examples use). */
export interface GrpcBootstrap {
  xds_servers: { server_uri: string; channel_creds: { type: string }[]; server_features: string[] }[];
  node: { id: string; locality: Record<string, string> };
}

/** examples/grpc/bootstrap.json with its server at `127.0.0.1:port` and its node id set. */
export function exampleGrpcBootstrap(port: number, nodeId: string): GrpcBootstrap {
  const bootstrap = JSON.parse(readFileSync(examplePath, 'utf8')) as GrpcBootstrap;
  for (const server of bootstrap.xds_servers) server.server_uri = `127.0.0.1:${port}`;
  bootstrap.node.id = nodeId;
  return bootstrap;
}

/** How the client reaches the xDS server: grpc-js-xds 1.14 knows `insecure` and `google_default` (TLS). */
export interface XdsServerChannel {
  /** The bootstrap's `channel_creds` type; default the example's (insecure). */
  readonly channelCreds?: 'insecure' | 'google_default';
}

/** Points this process's gRPC xDS clients at `127.0.0.1:port` as node `nodeId`, and registers the xds resolver. */
export async function useXdsServer(port: number, nodeId: string, via: XdsServerChannel = {}): Promise<void> {
  const bootstrap = exampleGrpcBootstrap(port, nodeId);
  if (via.channelCreds !== undefined)
    for (const server of bootstrap.xds_servers) server.channel_creds = [{ type: via.channelCreds }];
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify(bootstrap);
  const xds = (await import('@grpc/grpc-js-xds')) as unknown as {
    register?: () => void;
    default?: { register: () => void };
  };
  (xds.register ?? xds.default!.register)();
}
