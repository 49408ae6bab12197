/**
 * Is an origin reachable when no group's upstream stream says so? One `grpc.health.v1.Health/Check` call to the
 * upstreams, in order, on a channel of its own: the first that answers SERVING, or UNIMPLEMENTED (a server without
 * the health service still answers gRPC), is reachable. Used by the relay's readiness (readiness.ts) only while no
 * group has a live upstream stream. `/readyz` is open to anyone: at most one probe runs at a time and a result is
 * reused for `minIntervalMs`, so polling `/readyz` cannot make the relay call its origin more often than that.
 */
import * as grpc from '@grpc/grpc-js';

/** The outcome of a probe. */
export interface ProbeResult {
  readonly reachable: boolean;
  /** `ADDRESS: SERVING`, or why none was reachable. */
  readonly detail: string;
}

/** Options of {@link OriginProbe}. */
export interface OriginProbeOptions {
  readonly servers: readonly string[];
  readonly credentials?: grpc.ChannelCredentials;
  /** How long one call may take (ms); default 2,000. */
  readonly timeoutMs?: number;
  /** The shortest time between two probes (ms); default 1,000. */
  readonly minIntervalMs?: number;
}

const healthCheck = '/grpc.health.v1.Health/Check';
const servingStatuses = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

/** Reads `HealthCheckResponse.status` (field 1, an enum) from its bytes; 0 (UNKNOWN) when absent. */
function statusOf(bytes: Buffer): number {
  return bytes.length >= 2 && bytes[0] === 0x08 ? (bytes[1] ?? 0) & 0x7f : 0;
}

/** Probes the upstreams with gRPC health checks, one at a time, results reused for a while. */
export class OriginProbe {
  readonly #options: OriginProbeOptions;
  readonly #clients = new Map<string, grpc.Client>();
  #last: { readonly at: number; readonly result: ProbeResult } | undefined;
  #running: Promise<ProbeResult> | undefined;
  #closed = false;

  constructor(options: OriginProbeOptions) {
    this.#options = options;
  }

  /** The latest result when it is recent, else a new probe (shared with any probe under way). */
  check(): Promise<ProbeResult> {
    const last = this.#last;
    if (last !== undefined && Date.now() - last.at < (this.#options.minIntervalMs ?? 1000))
      return Promise.resolve(last.result);
    this.#running ??= this.#probe().then((result) => {
      this.#last = { at: Date.now(), result };
      this.#running = undefined;
      return result;
    });
    return this.#running;
  }

  /** Closes the probe channels. */
  close(): void {
    this.#closed = true;
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
  }

  async #probe(): Promise<ProbeResult> {
    const problems: string[] = [];
    for (const server of this.#options.servers) {
      if (this.#closed) break;
      const answer = await this.#call(server);
      if (answer.reachable) return answer;
      problems.push(answer.detail);
    }
    return { reachable: false, detail: problems.join('; ') };
  }

  #call(server: string): Promise<ProbeResult> {
    let client = this.#clients.get(server);
    if (client === undefined) {
      // A channel option of its own: the probe never shares (or waits behind) a group's connection.
      client = new grpc.Client(server, this.#options.credentials ?? grpc.credentials.createInsecure(), {
        'xds.relay.probe': 1,
      });
      this.#clients.set(server, client);
    }
    const deadline = Date.now() + (this.#options.timeoutMs ?? 2000);
    return new Promise((resolve) => {
      client.makeUnaryRequest(
        healthCheck,
        (request: Buffer) => request,
        (bytes: Buffer) => bytes,
        Buffer.alloc(0),
        new grpc.Metadata(),
        { deadline },
        (error, response) => {
          if (error?.code === grpc.status.UNIMPLEMENTED)
            resolve({ reachable: true, detail: `${server}: answers gRPC (no health service)` });
          else if (error)
            resolve({ reachable: false, detail: `${server}: ${error.details || error.message}` });
          else {
            const status = servingStatuses[statusOf(response ?? Buffer.alloc(0))] ?? 'UNKNOWN';
            resolve({ reachable: status === 'SERVING', detail: `${server}: ${status}` });
          }
        },
      );
    });
  }
}
