import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { XdsTestClient } from '@xds/testing';
import { reviewsModel } from './demo/demo-model.js';
import type { ModelFileEvents } from './model-file.js';
import type { ReferenceServer } from './reference-server.js';
import { get, getJson, save, startInProcess, tempDir } from './test-support.js';

const valid = () => reviewsModel({ v1Port: 50051, v2Port: 50052, weights: { v1: 100, v2: 0 } });

/** The value of a metric sample in Prometheus text, or undefined. */
function sample(metrics: string, name: string): number | undefined {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

/** A valid model of `services` services with 20 endpoints each: about 1.7 KB per service, slow to parse. */
function largeModel(services: number): string {
  const lines = ['services:'];
  for (let i = 0; i < services; i++) {
    lines.push(`  - name: svc${i}`, '    ports: [{ name: http, port: 80 }]', '    endpoints:');
    for (let e = 0; e < 20; e++) {
      lines.push(
        `      - { address: 10.${(i >> 8) & 255}.${i & 255}.${e}, port: 8080, labels: { app: svc${i} } }`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * How long a step may take: only a failure waits this long. At load 40 on 2 cores the worker took 28 s to start and
 * more than 60 s to read and check the 1 MB file; the reader's own bound (reloadTimeoutMs) is tested in
 * model-file.test.ts and is set out of reach here, so that a slow machine cannot turn the valid file into a rejected one.
 */
const waitMs = 600_000;

describe('reloading the model file (in a worker thread, each content once)', () => {
  let temp: ReturnType<typeof tempDir>;
  let file: string;
  let server: ReferenceServer;
  let logs: Record<string, unknown>[];
  let client: XdsTestClient;

  /** The next event of a kind, or a rejection after `ms`. */
  function next<K extends keyof ModelFileEvents>(kind: K, ms = waitMs): Promise<ModelFileEvents[K][0]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${kind} event within ${ms} ms`)), ms);
      const listener = (event: ModelFileEvents[K][0]) => {
        clearTimeout(timer);
        resolve(event);
      };
      (server.model.once as (kind: K, listener: (event: ModelFileEvents[K][0]) => void) => void).call(
        server.model,
        kind,
        listener,
      );
    });
  }

  /** /healthz answers 200 and a new xDS client gets its clusters. */
  async function serving(node: string): Promise<void> {
    assert.equal((await get(server.adminAddress, '/healthz')).status, 200);
    const probe = new XdsTestClient({ address: server.xdsAddress, node });
    try {
      probe.subscribe(TypeUrl.Cluster, ['*']);
      const response = await probe.next(TypeUrl.Cluster, { timeoutMs: waitMs });
      assert.ok(response.resources.length > 0, 'the clusters of the last good model');
    } finally {
      await probe.close();
    }
  }

  const rejects = async () =>
    sample(
      (await get(server.adminAddress, '/metrics')).body,
      'xds_server_config_reloads_total{result="rejected"}',
    );
  const rejectionLines = () =>
    logs.filter((l) => typeof l['msg'] === 'string' && l['msg'].startsWith('config rejected')).length;

  before(async () => {
    temp = tempDir();
    file = join(temp.dir, 'mesh.yaml');
    writeFileSync(file, valid());
    ({ server, logs } = await startInProcess(file, { reloadTimeoutMs: waitMs }));
    client = new XdsTestClient({ address: server.xdsAddress, node: 'envoy-1' });
    client.subscribe(TypeUrl.Cluster, ['*']);
    await client.waitFor(TypeUrl.Cluster, (r) => r.acked === true);
  });

  after(async () => {
    await client?.close();
    await server?.close();
    temp?.remove();
  });

  it('one invalid save is logged once and counts one reject, however often it is announced', async () => {
    const rejected = next('rejected');
    save(file, valid().replace('weight: 0', 'weigth: 0'));
    await rejected;
    // The directory watch and the stat poll both announce a save; a reload on demand announces it once more.
    assert.equal(await server.model.reload(), 'unchanged');
    assert.equal(await server.model.reload(), 'unchanged');
    assert.equal(rejectionLines(), 1);
    assert.equal(await rejects(), 1);

    const cleared = next('cleared');
    save(file, valid());
    await cleared;
    assert.equal(server.model.state.generation, 1);
  });

  it('L4: 20 KB of nested brackets is a config error naming file, line and maxDepth; the server keeps serving', async () => {
    const before = (await rejects()) ?? 0;
    const deep = 10_000;
    // Two different files: before the bound, the second deep read aborted the process.
    for (const [index, text] of [
      `domain: a\nservices: ${'['.repeat(deep)}${']'.repeat(deep)}\n`,
      `domain: b\nservices: ${'['.repeat(deep)}${']'.repeat(deep)}\n`,
    ].entries()) {
      const rejected = next('rejected');
      save(file, text);
      const { errors } = await rejected;
      assert.equal(errors.length, 1);
      assert.deepEqual([errors[0]?.file, errors[0]?.line], [file, 2]);
      assert.match(errors[0]?.message ?? '', /nested more than 64 deep; the limit is maxDepth/);
      assert.equal(await rejects(), before + index + 1);
    }
    await serving('after-deep');
    const configz = await getJson<{ generation: number }>(server.adminAddress, '/debug/configz');
    assert.equal(configz.generation, 1, 'the last good config is still served');
  });

  it('L4: while a large file is read and checked, /healthz and a new xDS client still answer', async () => {
    const text = largeModel(600);
    const digest = createHash('sha256').update(text).digest('hex').slice(0, 12);
    let done = false;
    const checking = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the new text was not checked within ${waitMs} ms`)),
        waitMs,
      );
      const listener = (event: ModelFileEvents['checking'][0]) => {
        if (event.digest !== digest) return;
        clearTimeout(timer);
        server.model.off('checking', listener);
        resolve();
      };
      server.model.on('checking', listener);
    });
    const applied = next('applied');
    void applied.then(
      () => {
        done = true;
      },
      () => {},
    );
    save(file, text);
    // The worker has read the text and is parsing it (a second or more for ~1 MB of YAML): the one reload that
    // applies it, as reloads run one at a time and a text is parsed once. The main thread must stay free meanwhile.
    await checking;
    await serving('during-reload');
    assert.equal(done, false, 'the file was still being checked when the probes were answered');
    const event = await applied;
    assert.equal(event.model.services.length, 600);
    assert.equal(server.model.state.digest, digest);
    await serving('after-reload');
  });
});
