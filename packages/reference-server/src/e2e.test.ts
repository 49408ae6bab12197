import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Syncz } from './admin/syncz.js';
import type { ChildLines } from './demo/child-lines.js';
import { reviewsModel } from './demo/demo-model.js';
import { type ReviewsBackend, startReviewsBackend } from './demo/reviews-backend.js';
import { results, startReviewsCaller } from './demo/reviews-caller.js';
import { type ServerProcess, startServerProcess } from './demo/server-process.js';
import { get, getJson, poll, save, tempDir } from './test-support.js';

/**
 * How long a step may take: only a failure waits this long (CI runs every package's tests at once on 2 cores). At
 * load 54 the caller process printed nothing for 120 s: starting it (tsx, grpc-js-xds) can take minutes then.
 */
const waitMs = 300_000;

/** Waits until the caller's last `count` results from `from` on all reached `version`; returns their end. */
function streak(caller: ChildLines, version: string, count: number, timeoutMs: number, from = 0) {
  return poll(
    `${count} RPCs in a row answered by ${version}`,
    () => {
      const last = results(caller, from).slice(-count);
      return last.length === count && last.every((r) => r.ok && r.version === version)
        ? caller.lines.length
        : undefined;
    },
    timeoutMs,
  );
}

describe('xds-server end to end: a proxyless gRPC client follows the model file', () => {
  let temp: ReturnType<typeof tempDir>;
  let file: string;
  let backends: ReviewsBackend[];
  let server: ServerProcess;
  let caller: ChildLines;
  const model = (v1: number, v2: number) =>
    reviewsModel({ v1Port: backends[0]!.port, v2Port: backends[1]!.port, weights: { v1, v2 } });

  before(async () => {
    temp = tempDir();
    file = join(temp.dir, 'mesh.yaml');
    backends = [await startReviewsBackend('v1'), await startReviewsBackend('v2')];
    writeFileSync(file, model(100, 0));
    server = await startServerProcess([
      '--config',
      file,
      '--xds',
      '127.0.0.1:0',
      '--admin',
      '127.0.0.1:0',
      '--debounce-ms',
      '50',
    ]);
    // Calls until after() stops it, however long a loaded machine makes the suite.
    caller = startReviewsCaller({
      xdsAddress: server.xdsAddress,
      nodeId: 'e2e-client',
      intervalMs: 20,
      durationMs: 30 * 60_000,
    });
  });

  after(async () => {
    await caller?.stop();
    await server?.process.stop('SIGKILL');
    await Promise.all((backends ?? []).map((b) => b.close()));
    temp?.remove();
  });

  it('reaches reviews v1 through xds:///reviews.default.svc.cluster.local:9080', async () => {
    await caller.waitFor((line) => line['ok'] === true, waitMs);
    await streak(caller, 'v1', 5, waitMs);
    assert.ok(
      results(caller).every((r) => !r.ok || r.version === 'v1'),
      'nothing reached v2 while its weight is 0',
    );
    const view = await poll('the gRPC client SYNCED on every type in /debug/syncz', async () => {
      const syncz = await getJson<Syncz>(server.adminAddress, '/debug/syncz');
      const node = syncz.nodes.find((n) => n.nodeId === 'e2e-client');
      return node !== undefined && node.types.length === 4 && node.types.every((t) => t.status === 'SYNCED')
        ? node
        : undefined;
    });
    assert.equal(view.key, 'grpc');
    assert.match(view.userAgent, /^gRPC Node/);
    assert.deepEqual(
      view.types.map((t) => t.type),
      ['cds', 'eds', 'lds', 'rds'],
    );
  });

  it('moves the traffic to v2 when the weights in the file change', async () => {
    const from = caller.lines.length;
    save(file, model(0, 100));
    await streak(caller, 'v2', 10, waitMs, from);
    const applied = server.logs.find((line) => line['msg'] === 'config applied');
    assert.equal(applied?.['generation'], 2);
  });

  it('keeps serving when the file breaks, and shows the error on the status page, in the log and in a metric', async () => {
    const broken = model(0, 100).replace('weight: 0', 'weigth: 0');
    const line = broken.split('\n').findIndex((l) => l.includes('weigth')) + 1;
    const field = 'services[2].routes[0].to[0].weigth';
    const mark = caller.lines.length;
    save(file, broken);

    const logged = await server.process.waitFor(
      (l) => typeof l['msg'] === 'string' && l['msg'].startsWith('config rejected'),
      waitMs,
    );
    assert.equal(logged['level'], 50);
    const [error] = logged['errors'] as { file: string; line: number; path: string; message: string }[];
    assert.deepEqual(
      { file: error?.file, line: error?.line, path: error?.path },
      { file, line, path: field },
    );
    assert.match(
      String(logged['msg']),
      new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:${line}:`),
    );

    const page = await poll('the error on the status page', async () => {
      const body = (await get(server.adminAddress, '/')).body;
      return body.includes('id="config-error"') ? body : undefined;
    });
    assert.ok(page.includes(`${file}:${line}:`), 'the page names file and line');
    assert.ok(page.includes(field), 'and the field');

    const metrics = (await get(server.adminAddress, '/metrics')).body;
    assert.match(metrics, /^xds_server_config_errors 1$/m);
    assert.match(metrics, /^xds_server_config_reloads_total\{result="rejected"\} 1$/m);

    await streak(caller, 'v2', 10, waitMs, mark);
    assert.ok(
      results(caller, mark).every((r) => r.ok && r.version === 'v2'),
      'every RPC after the break still succeeded on the last good model',
    );
  });

  it('drains on SIGTERM and exits 0', async () => {
    const exit = await server.process.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(
      server.logs.some((l) => l['msg'] === 'stopped'),
      "server.logs.some((l) => l['msg'] === 'stopped')",
    );
  });
});
