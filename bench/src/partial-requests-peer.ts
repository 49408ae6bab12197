/**
 * The server process of partial-requests.ts (rule L2, issue 10): an `XdsServer` over a `SnapshotCache` on
 * 127.0.0.1:0, started with `fork`. argv: the limits as JSON, and optionally the path of the `@xds/server` build to
 * use (to measure another commit's server). It sends `{ port }` when listening and answers the driver's commands:
 * `rss` (its resident memory after a GC, and the partial-request budget's stats when the server has them) and
 * `push` (a new snapshot for the bystander's node, whose response the driver times).
 */
import { Snapshot, SnapshotCache } from '@xds/cache';
import { makeClusterLoadAssignment } from '@xds/generator';

type ServerModule = typeof import('@xds/server');

const limits = JSON.parse(process.argv[2] ?? '{}') as Record<string, number>;
const from = process.argv[3];
const { XdsServer } = (await import(from ?? '@xds/server')) as ServerModule;

const cache = new SnapshotCache();
const snapshotOf = (port: number) =>
  Snapshot.create([
    makeClusterLoadAssignment('c1', [
      { locality: { region: 'r1' }, weight: 1, endpoints: [{ address: '127.0.0.1', port }] },
    ]),
  ]);
cache.setSnapshot('bystander', snapshotOf(1000));
const server = new XdsServer({ cache, limits });
const port = await server.listen('127.0.0.1:0');
const gc = (globalThis as { gc?: () => void }).gc;

process.on('message', (message: { cmd: string; port?: number }) => {
  if (message.cmd === 'rss') {
    gc?.();
    const stats = (server as { partialRequestStats?: () => unknown }).partialRequestStats?.();
    process.send?.({
      rss: process.memoryUsage().rss,
      stats,
      endedByLimit: server.streamStats().endedByLimit,
    });
  } else if (message.cmd === 'push') {
    cache.setSnapshot('bystander', snapshotOf(message.port ?? 1001));
  } else if (message.cmd === 'exit') {
    void server.close().then(() => process.exit(0));
  }
});
process.send?.({ port });
