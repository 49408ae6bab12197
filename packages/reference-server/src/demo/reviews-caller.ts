import { fileURLToPath } from 'node:url';
import { ChildLines, type JsonLine } from './child-lines.js';
import { reviewsTarget } from './demo-model.js';

const clientPath = fileURLToPath(new URL('./reviews-client.ts', import.meta.url));
const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The gRPC bootstrap of a client of the xDS server at `address`, as `GRPC_XDS_BOOTSTRAP_CONFIG` takes it. */
export function bootstrapConfig(address: string, nodeId: string): string {
  return JSON.stringify({
    xds_servers: [
      { server_uri: address, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] },
    ],
    node: { id: nodeId, locality: {} },
  });
}

/** One RPC's outcome, as the client process prints it. */
export interface CallResult extends JsonLine {
  readonly ok: boolean;
  readonly version?: string;
  readonly code?: number;
  readonly details?: string;
}

/**
 * Starts `reviews-client.ts` in a child process with a `@grpc/grpc-js-xds` bootstrap pointing at the xDS server:
 * it calls {@link reviewsTarget} every `intervalMs` and prints each outcome, for `durationMs` at most.
 */
export function startReviewsCaller(options: {
  readonly xdsAddress: string;
  readonly nodeId: string;
  readonly intervalMs?: number;
  readonly durationMs?: number;
}): ChildLines {
  return ChildLines.spawn({
    args: [
      '--import',
      'tsx',
      clientPath,
      reviewsTarget,
      String(options.intervalMs ?? 50),
      String(options.durationMs ?? 60_000),
    ],
    cwd: packageRoot,
    env: { ...process.env, GRPC_XDS_BOOTSTRAP_CONFIG: bootstrapConfig(options.xdsAddress, options.nodeId) },
  });
}

/** The results a caller printed from index `from` on. */
export function results(caller: ChildLines, from = 0): CallResult[] {
  return caller.lines.slice(from).filter((line): line is CallResult => typeof line['ok'] === 'boolean');
}
