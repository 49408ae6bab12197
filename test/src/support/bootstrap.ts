// grpc-js-xds reads its bootstrap once per process: each interop test file sets it before the first xds channel.

/** Points this process's gRPC xDS clients at `127.0.0.1:port` as node `nodeId`, and registers the xds resolver. */
export async function useXdsServer(port: number, nodeId: string): Promise<void> {
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
    xds_servers: [
      { server_uri: `127.0.0.1:${port}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] },
    ],
    node: { id: nodeId, locality: {} },
  });
  const xds = (await import('@grpc/grpc-js-xds')) as unknown as {
    register?: () => void;
    default?: { register: () => void };
  };
  (xds.register ?? xds.default!.register)();
}
