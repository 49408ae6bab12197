// startReferenceServer passes the model file's limits (rule L2) through to the ModelFile it opens.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { reviewsModel } from './demo/demo-model.js';
import { defaultReloadHeapMiB, defaultReloadTimeoutMs, type ReloadOutcome } from './index.js';
import { createLogger } from './logger.js';
import { ModelLoadError } from './model-file.js';
import { type ReferenceServer, startReferenceServer } from './reference-server.js';
import { heavyModel } from './test-models.js';
import { save, tempDir } from './test-support.js';

const valid = (v1: number, v2: number) => reviewsModel({ v1Port: 50051, v2Port: 50052, weights: { v1, v2 } });
const base = { xds: '127.0.0.1:0', admin: '127.0.0.1:0', logger: createLogger('silent'), closeGraceMs: 500 };

/** The errors of the next rejected change; fails when the change is applied instead. */
function nextChange(server: ReferenceServer): Promise<readonly { message: string }[]> {
  return new Promise((resolve, reject) => {
    server.model.once('rejected', ({ errors }) => resolve(errors));
    server.model.once('applied', () =>
      reject(new Error('the change was applied: the limit did not reach it')),
    );
  });
}

describe('startReferenceServer options', () => {
  let temp: ReturnType<typeof tempDir>;
  before(() => {
    temp = tempDir();
  });
  after(() => temp.remove());

  it('exports the reload defaults and outcome type', () => {
    assert.equal(defaultReloadTimeoutMs, 60_000);
    assert.equal(defaultReloadHeapMiB, 1024);
    const outcome: ReloadOutcome = 'unchanged';
    assert.equal(outcome, 'unchanged');
  });

  it('L2: modelLimits reach the file read at start', async () => {
    const path = join(temp.dir, 'large.yaml');
    writeFileSync(path, `${valid(100, 0)}${'# padding\n'.repeat(200)}`);
    await assert.rejects(
      startReferenceServer({ ...base, config: path, modelLimits: { maxBytes: valid(100, 0).length + 50 } }),
      (error: unknown) => error instanceof ModelLoadError && /the limit is maxBytes/.test(error.message),
    );
  });

  it('L2: reloadTimeoutMs reaches the reader of a change', async () => {
    const path = join(temp.dir, 'slow.yaml');
    writeFileSync(path, valid(100, 0));
    const server = await startReferenceServer({ ...base, config: path, reloadTimeoutMs: 1, debounceMs: 20 });
    try {
      const rejected = nextChange(server);
      save(path, valid(0, 100));
      const errors = await rejected;
      assert.match(errors[0]?.message ?? '', /took longer than 1 ms; the limit is reloadTimeoutMs/);
    } finally {
      await server.close();
    }
  });

  it('L2: reloadHeapMiB reaches the reader of a change', async () => {
    const path = join(temp.dir, 'heavy.yaml');
    writeFileSync(path, valid(100, 0));
    const server = await startReferenceServer({ ...base, config: path, reloadHeapMiB: 16, debounceMs: 20 });
    try {
      const rejected = nextChange(server);
      save(path, heavyModel());
      const errors = await rejected;
      assert.match(errors[0]?.message ?? '', /needed more than 16 MiB of memory; the limit is reloadHeapMiB/);
    } finally {
      await server.close();
    }
  });
});
