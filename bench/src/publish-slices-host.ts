/**
 * The child of publish-slices.ts: an HTTP server answering /healthz, and a SnapshotCache that it publishes a model
 * at the generation limits into (1,000 endpoints x 99 subsets: 100,000 generated endpoints), `--mode sync` with
 * `publishModel` (how xds-server published before rule L4's fix), `--mode async` with `publishModelAsync` (after).
 * Over IPC: sends `{ port }` when listening; on `{ publish: shift }` publishes the model with endpoint 0 on
 * 8080 + shift (every assignment changes) and replies `{ ms, cpuMs, pauses }` when the snapshots are set (cpuMs:
 * the process's CPU time meanwhile, answering /healthz included).
 */
import { createServer } from 'node:http';
import { SnapshotCache } from '@xds/cache';
import {
  nodeKeyByFlavour,
  publishModel,
  publishModelAsync,
  type ServiceModel,
  validateModel,
} from '@xds/generator';

const mode = process.argv[2] === 'sync' ? 'sync' : 'async';

function limitsModel(shift: number): ServiceModel {
  const result = validateModel({
    services: [
      {
        name: 'wide',
        ports: [{ name: 'http', port: 80 }],
        endpoints: Array.from({ length: 1000 }, (_, i) => ({
          address: `10.0.${i >> 8}.${i & 255}`,
          port: i === 0 ? 8080 + shift : 8080,
          labels: { app: 'wide' },
        })),
        subsets: Array.from({ length: 99 }, (_, i) => ({ name: `v${i}`, labels: { app: 'wide' } })),
      },
    ],
  });
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return result.model;
}

const cache = new SnapshotCache({ nodeKey: nodeKeyByFlavour });
const server = createServer((req, res) => {
  res.writeHead(req.url === '/healthz' ? 200 : 404, { 'content-type': 'text/plain' }).end('ok\n');
});
// one kept-alive connection for the whole run: a stalled loop must not close it under the prober
server.keepAliveTimeout = 600_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address !== null ? address.port : 0 });
});
process.on('message', async (message: { publish?: number; exit?: boolean }) => {
  if (message.exit === true) {
    server.close();
    process.disconnect();
    return;
  }
  const model = limitsModel(message.publish ?? 0);
  let pauses = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  if (mode === 'sync') publishModel(cache, model);
  else await publishModelAsync(cache, model, { onPause: () => pauses++ });
  const used = process.cpuUsage(cpu);
  process.send?.({ ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000, pauses });
});
