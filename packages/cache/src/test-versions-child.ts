// Run by snapshot.test.ts in a separate process: prints the versions of the sample snapshot as JSON.
import { TypeUrl } from '@xds/api';
import { Snapshot } from './snapshot.js';
import { assignment, cluster, listener, route } from './test-resources.js';

const snap = Snapshot.create([
  route('r1', 'c1', 'c2'),
  listener('l1', 'r1'),
  assignment('c2', 81),
  assignment('c1', 80),
  cluster('c2'),
  cluster('c1'),
]);
const out: Record<string, string> = {};
for (const typeUrl of Object.values(TypeUrl)) out[typeUrl] = snap.version(typeUrl);
out['c1'] = snap.entries(TypeUrl.Cluster).get('c1')?.version ?? '';
process.stdout.write(JSON.stringify(out));
