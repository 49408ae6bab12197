/**
 * A focused bench of a relay group's upstream update (rules X4, L2): a group of N clusters (5,000 by default,
 * `--clusters N`) takes `--updates U` (2,000) upstream changes of one cluster each, first as the relay applied them
 * before (`Snapshot.update` with an immer recipe: the type's map copied and its draft record walked per update), then
 * through `RelayCache.apply` (`Snapshot.change`: a persistent map, O(the change)). Prints microseconds and Map writes
 * per update for both. Run: `node --import tsx bench/src/relay-update.ts [--clusters N] [--updates U]`.
 */
import { toBinary } from '@bufbuild/protobuf';
import { ClusterSchema, TypeUrl } from '@xds/api';
import { encodeResource, Snapshot } from '@xds/cache';
import { makeCluster } from '@xds/generator';
import { parseGroupBy, RelayCache } from '@xds/relay';
import { option } from './peer-control.js';

/** One upstream resource as RelayCache.apply takes it (@xds/client's XdsResource). */
type XdsResource = Parameters<RelayCache['apply']>[3][number];

const clusters = Number(option('clusters', '5000'));
const updates = Number(option('updates', '2000'));

function cluster(name: string, timeoutMs: number): XdsResource {
  const message = makeCluster({ name, connectTimeoutMs: timeoutMs });
  return { typeUrl: TypeUrl.Cluster, name, version: '', message, bytes: toBinary(ClusterSchema, message) };
}

/** Runs `apply` over the changes; returns microseconds and Map writes per update. */
function measure(apply: (change: XdsResource, i: number) => void, changes: readonly XdsResource[]) {
  const set = Map.prototype.set;
  let writes = 0;
  Map.prototype.set = function (this: Map<unknown, unknown>, key: unknown, value: unknown) {
    writes++;
    return set.call(this, key, value);
  };
  const start = performance.now();
  try {
    for (const [i, change] of changes.entries()) apply(change, i);
  } finally {
    Map.prototype.set = set;
  }
  const ms = performance.now() - start;
  return { usPerUpdate: (ms * 1000) / changes.length, writesPerUpdate: writes / changes.length };
}

const all = Array.from({ length: clusters }, (_, i) => cluster(`c${i}`, 1000));
const changesOf = (offset: number) =>
  Array.from({ length: updates }, (_, i) => cluster(`c${(i * 7) % clusters}`, offset + i));

// Before: what RelayCache.apply did until Snapshot.change (an immer recipe per upstream response).
for (const resource of all) encodeResource(resource.message, { bytes: resource.bytes });
let snapshot = Snapshot.create(
  all.map((r) => r.message),
  { version: 'v0' },
);
const before = measure((change, i) => {
  encodeResource(change.message, { bytes: change.bytes });
  snapshot = snapshot.update(
    (draft) => {
      (draft[TypeUrl.Cluster] as Record<string, unknown>)[change.name] = change.message;
    },
    { version: { [TypeUrl.Cluster]: `v${i + 1}` } },
  );
}, changesOf(2000));

const cache = new RelayCache(parseGroupBy('cluster'), {
  groupOpened() {},
  interestChanged() {},
  groupIdle() {},
});
cache.apply('g', TypeUrl.Cluster, 'v0', all, []);
const after = measure(
  (change, i) => cache.apply('g', TypeUrl.Cluster, `v${i + 1}`, [change], []),
  changesOf(2000 + updates),
);

const line = (what: string, r: typeof before) =>
  `${what}: ${r.usPerUpdate.toFixed(1)} us and ${r.writesPerUpdate.toFixed(1)} Map writes per update`;
process.stdout.write(
  `relay update of 1 of ${clusters} clusters, ${updates} updates\n` +
    `${line('before (Snapshot.update, immer)', before)}\n${line('after (RelayCache.apply, Snapshot.change)', after)}\n`,
);
