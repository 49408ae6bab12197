/**
 * A focused bench of a wildcard toggle in a relay group's upstream watch (rules X4, L2): a delta watch of N names
 * (5,000 by default, `--names N`) on a real origin on loopback turns its wildcard on and off `--toggles T` (100)
 * times, first as the relay did before (`setNames('*')` and back to the names, the held map copied to find what the
 * client forgot), then with `setWildcard` (the names kept beside the wildcard, what only it held found in O(those)).
 * Only the synchronous work of each toggle is measured (what the relay's event loop spends, the request's write
 * included); the origin's answers are awaited between toggles. Prints ms and Map and Set writes per toggle (on and
 * off) for both. Run: `node --import tsx bench/src/relay-wildcard.ts [--names N] [--toggles T]`.
 */
import { create } from '@bufbuild/protobuf';
import { NodeSchema, TypeUrl } from '@xds/api';
import { Snapshot, SnapshotCache } from '@xds/cache';
import { makeCluster } from '@xds/generator';
import { GroupUpstream, parseGroupBy, RelayCache } from '@xds/relay';
import { XdsServer } from '@xds/server';
import { countWrites } from '@xds/testing';
import { option } from './peer-control.js';

const size = Number(option('names', '5000'));
const toggles = Number(option('toggles', '100'));

/** Runs `work`, returning its ms and the Map and Set writes it made (counted by @xds/testing's countWrites). */
function measure(work: () => void): { ms: number; writes: number } {
  const start = performance.now();
  const writes = countWrites(work);
  return { ms: performance.now() - start, writes };
}

const cache = new SnapshotCache({ nodeKey: () => 'all' });
cache.setSnapshot('all', Snapshot.create(['x1', 'x2', 'x3'].map((name) => makeCluster({ name }))));
const origin = new XdsServer({ cache, closeGraceMs: 100 });
const port = await origin.listen('127.0.0.1:0');
const names = Array.from({ length: size }, (_, i) => `c${i}`);

type Strategy = (
  client: GroupUpstream['client'],
  handle: ReturnType<GroupUpstream['client']['watch']>,
) => {
  on(): void;
  off(): void;
};

/** Before: the relay replaced the watch's names with '*' and back, and walked what the client held. */
const replaceNames: Strategy = (client, handle) => ({
  on: () => handle.setNames('*'),
  off: () => {
    const before = [...client.resources(TypeUrl.Cluster).keys()];
    handle.setNames(names);
    before.filter((name) => client.resource(TypeUrl.Cluster, name) === undefined);
  },
});

/** After: the names stay beside the wildcard. */
const keepNames: Strategy = (_client, handle) => ({
  on: () => handle.setWildcard(true),
  off: () => handle.setWildcard(false),
});

async function run(strategy: Strategy) {
  const relayCache = new RelayCache(parseGroupBy('cluster'), {
    groupOpened() {},
    interestChanged() {},
    groupIdle() {},
  });
  const upstream = new GroupUpstream('bench', create(NodeSchema, { id: 'relay~bench' }), relayCache, {
    servers: [`127.0.0.1:${port}`],
    protocol: 'delta',
  });
  const client = upstream.client;
  const acked = new Promise((resolve) => client.once('ack', resolve));
  const handle = client.watch(TypeUrl.Cluster, names, () => {});
  await acked;
  const { on, off } = strategy(client, handle);
  let ms = 0;
  let writes = 0;
  for (let i = 0; i < toggles; i++) {
    const held = new Promise<void>((resolve) => {
      const check = () => {
        if (client.resource(TypeUrl.Cluster, 'x3') === undefined) return;
        client.off('update', check);
        resolve();
      };
      client.on('update', check);
    });
    const into = measure(on);
    await held;
    const out = measure(off);
    ms += into.ms + out.ms;
    writes += into.writes + out.writes;
  }
  await upstream.close();
  return { msPerToggle: ms / toggles, writesPerToggle: writes / toggles };
}

const before = await run(replaceNames);
const after = await run(keepNames);
await origin.close();
const line = (what: string, r: typeof before) =>
  `${what}: ${r.msPerToggle.toFixed(3)} ms and ${r.writesPerToggle.toFixed(1)} Map and Set writes per toggle (on + off)`;
process.stdout.write(
  `wildcard toggle in a delta watch of ${size} names, ${toggles} toggles\n` +
    `${line("before (setNames('*') and back)", before)}\n${line('after (setWildcard)', after)}\n`,
);
