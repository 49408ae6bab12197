import assert from 'node:assert/strict';
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { reviewsModel } from './demo/demo-model.js';
import { createLogger } from './logger.js';
import { ModelFile, type ModelFileEvents, type ModelFileOptions, ModelLoadError } from './model-file.js';
import { heavyModel } from './test-models.js';
import { memoryLog, save, tempDir } from './test-support.js';

const valid = (v1: number, v2: number) => reviewsModel({ v1Port: 50051, v2Port: 50052, weights: { v1, v2 } });

function weightsOf(file: ModelFile): number[] {
  const reviews = file.state.model.services.find((s) => s.name === 'reviews');
  return reviews?.routes[0]?.to.map((d) => d.weight) ?? [];
}

/** The next event of a kind, or a rejection after 30 s (a change is read in a worker thread). */
function next<K extends keyof ModelFileEvents>(file: ModelFile, kind: K): Promise<ModelFileEvents[K][0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${kind} event within 30 s`)), 30_000);
    const listener = (event: ModelFileEvents[K][0]) => {
      clearTimeout(timer);
      resolve(event);
    };
    (file.once as (kind: K, listener: (event: ModelFileEvents[K][0]) => void) => void).call(
      file,
      kind,
      listener,
    );
  });
}

describe('ModelFile', () => {
  let temp: ReturnType<typeof tempDir>;
  before(() => {
    temp = tempDir();
  });
  after(() => temp.remove());

  function open(name: string, text: string, more: Partial<ModelFileOptions> = {}) {
    const path = join(temp.dir, name);
    writeFileSync(path, text);
    const log = memoryLog();
    const file = ModelFile.open({
      file: path,
      source: 'file',
      logger: createLogger('debug', log.stream),
      debounceMs: 20,
      pollMs: 100,
      ...more,
    });
    return { path, file, logs: log.lines };
  }

  it('refuses to start from an invalid file, listing every error with its line', () => {
    const path = join(temp.dir, 'bad.yaml');
    writeFileSync(
      path,
      valid(100, 0).replace('weight: 0', 'weight: -1').replace('port: 9086', 'port: 70000'),
    );
    assert.throws(
      () => ModelFile.open({ file: path, source: 'file', logger: createLogger('silent') }),
      (error: unknown) => {
        assert.ok(error instanceof ModelLoadError, 'error instanceof ModelLoadError');
        assert.equal(error.errors.length, 2);
        assert.ok(
          error.errors.every((e) => e.file === path && typeof e.line === 'number'),
          "error.errors.every((e) => e.file === path && typeof e.line === 'number')",
        );
        assert.match(error.message, /routes\[0\]\.to\[1\]\.weight/);
        return true;
      },
    );
  });

  it('applies a valid change, reports an invalid one with file, line and field, and keeps the last good model', async () => {
    const { path, file, logs } = open('mesh.yaml', valid(100, 0));
    try {
      file.watch();
      assert.equal(file.state.generation, 1);

      const applied = next(file, 'applied');
      save(path, valid(0, 100));
      const event = await applied;
      assert.equal(event.state.generation, 2);
      assert.deepEqual(weightsOf(file), [0, 100]);

      const broken = valid(0, 100).replace('weight: 0', 'weigth: 0');
      const line = broken.split('\n').findIndex((l) => l.includes('weigth')) + 1;
      const rejected = next(file, 'rejected');
      save(path, broken);
      const rejection = await rejected;
      assert.deepEqual(
        rejection.errors.map((e) => ({ file: e.file, line: e.line, path: e.path })),
        [{ file: path, line, path: 'services[2].routes[0].to[0].weigth' }],
      );
      assert.match(rejection.errors[0]!.message, /unknown field "weigth" \(did you mean "weight"\?\)/);
      assert.equal(file.state.generation, 2, 'the last good model stays');
      assert.deepEqual(weightsOf(file), [0, 100]);
      assert.equal(file.state.error?.errors.length, 1);
      const logged = logs.find(
        (l) => l['msg'] !== undefined && String(l['msg']).startsWith('config rejected'),
      );
      assert.ok(logged, 'the rejection is logged');
      assert.equal(logged['level'], 50);
      assert.deepEqual((logged['errors'] as { line: number }[])[0]?.line, line);

      // Saving the way editors do (write a new file, rename it over the old one) is seen too.
      const reapplied = next(file, 'applied');
      writeFileSync(`${path}.tmp`, valid(50, 50));
      renameSync(`${path}.tmp`, path);
      await reapplied;
      assert.equal(file.state.generation, 3);
      assert.equal(file.state.error, undefined, 'a valid change clears the error');
      assert.deepEqual(weightsOf(file), [50, 50]);
    } finally {
      await file.close();
    }
  });

  it('clears the error without a new generation when the file goes back to the model being served', async () => {
    const { path, file } = open('revert.yaml', valid(100, 0));
    try {
      file.watch();
      const rejected = next(file, 'rejected');
      save(path, 'services: [');
      await rejected;
      assert.ok(file.state.error !== undefined, 'file.state.error !== undefined');
      const cleared = next(file, 'cleared');
      save(path, valid(100, 0));
      await cleared;
      assert.equal(file.state.error, undefined);
      assert.equal(file.state.generation, 1);
    } finally {
      await file.close();
    }
  });

  it('L2: the limits apply to the file read at start, with the line and the limit', () => {
    const path = join(temp.dir, 'large.yaml');
    writeFileSync(path, `${valid(100, 0)}${'# padding\n'.repeat(200)}`);
    const limit = valid(100, 0).length + 50;
    assert.throws(
      () =>
        ModelFile.open({
          file: path,
          source: 'file',
          logger: createLogger('silent'),
          limits: { maxBytes: limit },
        }),
      (error: unknown) => {
        assert.ok(error instanceof ModelLoadError, 'error instanceof ModelLoadError');
        assert.equal(error.errors.length, 1);
        assert.equal(error.errors[0]?.file, path);
        assert.equal(error.errors[0]?.line, valid(100, 0).split('\n').length + 5);
        assert.match(error.message, /larger than [\d,]+ bytes; the limit is maxBytes/);
        return true;
      },
    );
  });

  it('L2: a reader past reloadTimeoutMs is stopped, and the change is rejected naming the limit', async () => {
    const { path, file } = open('slow.yaml', valid(100, 0), { reloadTimeoutMs: 1 });
    try {
      file.watch();
      const rejected = next(file, 'rejected');
      save(path, valid(0, 100));
      const { errors } = await rejected;
      assert.equal(errors[0]?.file, path);
      assert.match(errors[0]?.message ?? '', /took longer than 1 ms; the limit is reloadTimeoutMs/);
      assert.equal(file.state.generation, 1, 'the last good model stays');
    } finally {
      await file.close();
    }
  });

  it('L2: a reader past reloadHeapMiB is stopped, and the change is rejected naming the limit', async () => {
    const { path, file } = open('heavy.yaml', valid(100, 0), { reloadHeapMiB: 16 });
    try {
      file.watch();
      const rejected = next(file, 'rejected');
      save(path, heavyModel());
      const { errors } = await rejected;
      assert.equal(errors[0]?.file, path);
      assert.match(errors[0]?.message ?? '', /needed more than 16 MiB of memory; the limit is reloadHeapMiB/);
      assert.equal(file.state.generation, 1, 'the last good model stays');
    } finally {
      await file.close();
    }
  });

  it('a deleted file is reported once however often it is announced, and its return clears the error', async () => {
    const { path, file, logs } = open('deleted.yaml', valid(100, 0));
    try {
      file.watch();
      const rejected = next(file, 'rejected');
      unlinkSync(path);
      const { errors } = await rejected;
      assert.match(errors[0]?.message ?? '', /cannot read the file/);
      assert.equal(await file.reload(), 'unchanged');
      const lines = logs.filter((l) => String(l['msg']).startsWith('config rejected'));
      assert.equal(lines.length, 1);
      const cleared = next(file, 'cleared');
      save(path, valid(100, 0));
      await cleared;
      assert.equal(file.state.generation, 1);
    } finally {
      await file.close();
    }
  });
});
