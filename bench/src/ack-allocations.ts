/**
 * Bytes allocated per SotW ACK by the server's request deserializer (issue 15): the function grpc-js calls for
 * every message of an ADS stream, taken from the service definitions `addXdsServices` mounts, so that what is
 * measured is the server's own decoder (the wire pass, the name scan, the message). Each ACK is an Envoy's: its
 * `version_info`, the `resource_names` of its subscription (the same `--names N` services for every client, as in
 * bench scenario 1), the EDS type URL and its nonce (a new one each time).
 *
 * Allocation is read from the heap in use around batches of ACKs that fit in the young generation, each after a
 * full collection; a batch that a scavenge interrupted (seen by a `gc` performance entry) is measured again. Run
 * with `--expose-gc` and a young generation large enough for a batch:
 *
 *   node --expose-gc --min-semi-space-size=64 --max-semi-space-size=64 --import tsx bench/src/ack-allocations.ts \
 *     [--names 1000] [--acks 20000] [--batch 1000]
 *
 * Prints bytes and microseconds per ACK (the latter only as a hint: it depends on the machine's load, printed
 * beside it). `--part wire` and `--part decoder` measure the two halves of the deserializer on their own: the wire
 * pass (`trimRequest` of @xds/server's request-wire.ts) and the SotW decoder without it (`sotwRequestDecoder` of
 * sotw-request.ts with no limits), loaded from the server's sources (they are not part of its public API).
 */
import { loadavg } from 'node:os';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { create, toBinary } from '@bufbuild/protobuf';
import type { Server } from '@grpc/grpc-js';
import { DiscoveryRequestSchema, TypeUrl } from '@xds/api';
import { SnapshotCache } from '@xds/cache';
import { addXdsServices, defaultLimits, XdsServer } from '@xds/server';
import { option } from './peer-control.js';

const nameCount = Number(option('names', '1000'));
const acks = Number(option('acks', '20000'));
const batch = Number(option('batch', '1000'));
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

type Deserialize = (bytes: Buffer) => unknown;
const definitions: Record<string, { requestDeserialize?: Deserialize }> = {};
/** Stands in for a grpc-js server: keeps the method definitions the xDS server mounts. */
const recorder = {
  addService(definition: Record<string, { requestDeserialize?: Deserialize }>) {
    Object.assign(definitions, definition);
  },
} as unknown as Server;
const server = new XdsServer({ cache: new SnapshotCache() });
addXdsServices(recorder, server);
const part = option('part', 'server');
/** A module of @xds/server's sources, by file name (outside its public API: for `--part` only). */
const serverSource = (file: string): Promise<Record<string, unknown>> =>
  import(new URL(`../../packages/server/src/${file}`, import.meta.url).href);

async function deserializer(): Promise<Deserialize | undefined> {
  if (part === 'server') return definitions.streamAggregatedResources?.requestDeserialize;
  if (part === 'decoder') {
    const { sotwRequestDecoder } = (await serverSource('sotw-request.ts')) as {
      sotwRequestDecoder: (schema: typeof DiscoveryRequestSchema) => Deserialize;
    };
    return sotwRequestDecoder(DiscoveryRequestSchema);
  }
  if (part === 'wire') {
    const wire = (await serverSource('request-wire.ts')) as {
      requestLayout: (schema: typeof DiscoveryRequestSchema) => unknown;
      trimRequest: (bytes: Buffer, layout: unknown, limits: unknown) => unknown;
    };
    const layout = wire.requestLayout(DiscoveryRequestSchema);
    return (bytes) => wire.trimRequest(bytes, layout, defaultLimits);
  }
  throw new Error(`--part is server, decoder or wire, not ${part}`);
}
const decode = await deserializer();
if (decode === undefined) throw new Error('no streamAggregatedResources definition');

const names = Array.from({ length: nameCount }, (_, i) => `svc-${i}`);
/** Distinct ACKs (nonces differ), cycled through. */
const requests = Array.from({ length: 512 }, (_, i) =>
  Buffer.from(
    toBinary(
      DiscoveryRequestSchema,
      create(DiscoveryRequestSchema, {
        versionInfo: '6f1c0a9e2b7d4c31',
        resourceNames: names,
        typeUrl: TypeUrl.Endpoint,
        responseNonce: (1000 + i).toString(36),
      }),
    ),
  ),
);

/** Scavenges seen (the full collections the script asks for are not counted). */
let collections = 0;
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries())
    if ((entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR)
      collections++;
});
observer.observe({ entryTypes: ['gc'] });

/** Keeps the last result alive, so that the loop's work is not optimised away. */
let sink: unknown;
let next = 0;
function run(count: number): void {
  for (let i = 0; i < count; i++) {
    sink = decode!(requests[next]!);
    next = (next + 1) % requests.length;
  }
}

/** Waits for the gc performance entries of what ran so far. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

run(5000); // warm-up: optimised code, remembered runs
let bytes = 0;
let measured = 0;
let redone = 0;
while (measured < acks) {
  gc();
  await settle();
  const seen = collections;
  const before = process.memoryUsage().heapUsed;
  run(batch);
  const after = process.memoryUsage().heapUsed;
  await settle();
  if (collections !== seen) {
    // A scavenge in the batch freed some of what it allocated: this batch does not count.
    redone++;
    if (redone > 50) throw new Error('every batch is interrupted by a collection: try a smaller --batch');
    continue;
  }
  bytes += after - before;
  measured += batch;
}
// Time, in one run without the collections above between batches (a hint only: the machine is shared).
const start = process.hrtime.bigint();
run(measured);
const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
observer.disconnect();
await server.close();
if (sink === undefined) throw new Error('nothing decoded');
const load = loadavg()
  .map((n) => n.toFixed(1))
  .join(' ');
process.stdout.write(
  `${part}: ${measured} ACKs of ${nameCount} names (${requests[0]!.length} bytes each): ` +
    `${(bytes / measured).toFixed(0)} bytes allocated per ACK, ${((elapsed * 1000) / measured).toFixed(2)} us per ACK ` +
    `(load ${load}; ${redone} batches measured again)\n`,
);
