// The bystander: an ordinary, well-behaved xDS client (XdsTestClient, SotW ADS, Envoy-like: every cluster, then
// the assignment of each) connected to the target while the fuzzer attacks it, from a process of its own
// (bystander-main.ts). The target's pushes carry their monotonic send time in the version (`p<epoch>.<ns>`), so each
// assignment update gives a push latency; the fuzzer reports their p50/p99 (with no fuzz, then under fuzz) and
// fails when the bystander's stream ends or it stops converging.
import { hrtime } from 'node:process';
import { TypeUrl } from '@xds/api';
import { XdsTestClient } from '@xds/testing';
import { fuzzSnapshot } from './fuzz-config.js';

/** Push latencies and the bystander's health. */
export interface BystanderStats {
  /** Assignment updates received. */
  readonly updates: number;
  /** Push-to-receipt latency, p50 (ms). */
  readonly p50Ms: number;
  /** Push-to-receipt latency, p99 (ms). */
  readonly p99Ms: number;
  /** The largest latency (ms). */
  readonly maxMs: number;
}

/** The push time in a version `p<epoch>.<ns>`, or undefined. */
function pushedAt(version: string): bigint | undefined {
  const match = /^p\d+\.(\d+)$/.exec(version);
  return match === null ? undefined : BigInt(match[1]!);
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** A connected bystander. */
export class Bystander {
  readonly #client: XdsTestClient;
  readonly #latencies: number[] = [];
  #ended: string | undefined;
  #lastUpdate = performance.now();

  private constructor(client: XdsTestClient) {
    this.#client = client;
  }

  /** Connects as `nodeId`, subscribes like Envoy and resolves once it holds every assignment. */
  static async connect(address: string, nodeId: string): Promise<Bystander> {
    const client = new XdsTestClient({
      address,
      node: { id: nodeId, userAgentName: 'envoy' },
      timeoutMs: 30_000,
    });
    const bystander = new Bystander(client);
    const edsNames = [...fuzzSnapshot('envoy', 0, 'x').entries(TypeUrl.Endpoint).keys()];
    client.onResponse((response) => {
      if (response.typeUrl !== TypeUrl.Endpoint) return;
      bystander.#lastUpdate = performance.now();
      const at = pushedAt(response.versionInfo);
      if (at !== undefined) bystander.#latencies.push(Number(hrtime.bigint() - at) / 1e6);
    });
    void client.ended().then((end) => {
      bystander.#ended ??= `code ${end.code}: ${end.details}`;
    });
    client.subscribe(TypeUrl.Cluster, []);
    await client.next(TypeUrl.Cluster);
    client.subscribe(TypeUrl.Endpoint, edsNames);
    await client.next(TypeUrl.Endpoint);
    return bystander;
  }

  /** Why its stream ended, if it did. */
  get ended(): string | undefined {
    return this.#ended;
  }

  /** Milliseconds since the last assignment update. */
  get quietMs(): number {
    return performance.now() - this.#lastUpdate;
  }

  /** Resolves when the bystander holds assignments of `version` (or later); rejects after `timeoutMs`. */
  async converge(version: string, timeoutMs: number): Promise<void> {
    const wanted = Number(/^p(\d+)\./.exec(version)?.[1] ?? Number.NaN);
    await this.#client.waitFor(
      TypeUrl.Endpoint,
      (response) => Number(/^p(\d+)\./.exec(response.versionInfo)?.[1] ?? -1) >= wanted,
      { timeoutMs },
    );
  }

  /** Latency figures so far; `reset` starts a new series after them (the baseline before the fuzz cases). */
  stats(reset = false): BystanderStats {
    const sorted = [...this.#latencies].sort((a, b) => a - b);
    if (reset) this.#latencies.length = 0;
    return {
      updates: sorted.length,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!,
    };
  }

  /** Closes the client. */
  close(): Promise<void> {
    return this.#client.close();
  }
}
