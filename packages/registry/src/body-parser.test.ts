// The registry's parse worker (body-parser.ts, rule L4): an answer past inlineParseBytes is parsed in a worker thread
// and comes back the same as when parsed on the event loop; an answer the worker cannot hold (parseHeapMiB) or parse
// in time (parseTimeoutMs), or that is not JSON, is an error naming the bound or the answer, never a crash, and the
// next answer is parsed by a new worker; a closed parser refuses work.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BodyParser, defaultParseOptions } from './body-parser.js';
import { RegistryLimitError } from './http-body.js';
import type { KubePageJob } from './parse-jobs.js';

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

/** A Pod list page of `count` Pods, some with labels past 64 bytes. */
function podPage(count: number): string {
  const items = Array.from({ length: count }, (_, i) => ({
    metadata: {
      name: `pod-${i}`,
      namespace: 'ns',
      labels: i % 7 === 0 ? { big: 'x'.repeat(50), bag: 'x'.repeat(47) } : { app: 'web', index: String(i) },
      managedFields: [{ manager: 'kubectl' }],
    },
    spec: { containers: [{ name: 'c' }] },
  }));
  return JSON.stringify({ kind: 'PodList', metadata: { resourceVersion: '42', continue: 'next' }, items });
}

const podJob: KubePageJob = { kind: 'kube-page', objects: 'pods', maxLabelBytes: 64, maxItems: 10_000 };

describe('BodyParser', () => {
  it('L4: a page past inlineParseBytes is parsed by the worker, in chunks, the same as on the event loop', async () => {
    const text = podPage(1_234);
    const inline = new BodyParser({ inlineParseBytes: 1024 * 1024 });
    const worker = new BodyParser({ inlineParseBytes: 1024, chunkItems: 100 });
    try {
      const a = await inline.parse(encode(text), podJob, 'GET /api/v1/pods');
      const bytes = encode(text);
      const b = await worker.parse(bytes, podJob, 'GET /api/v1/pods');
      assert.equal(bytes.byteLength, 0, 'the bytes were transferred, not copied');
      assert.deepEqual(b, a);
      assert.deepEqual(a.meta, { list: true, count: 1_234, resourceVersion: '42', continue: 'next' });
      assert.deepEqual(a.items[0], [
        'ns/pod-0',
        { labels: {}, refused: 'its labels are 103 bytes, over the limit of 64 (maxInstanceLabelBytes)' },
      ]);
      assert.deepEqual(a.items[1], ['ns/pod-1', { labels: { app: 'web', index: '1' } }]);
      assert.deepEqual(inline.counts(), { inline: 1, worker: 0, chunks: 0, started: 0, failed: 0 });
      assert.deepEqual(worker.counts(), { inline: 0, worker: 1, chunks: 13, started: 1, failed: 0 });
      // past maxItems only the count crosses
      const over = await worker.parse(encode(text), { ...podJob, maxItems: 1_000 }, 'GET /api/v1/pods');
      assert.equal(over.meta.count, 1_234);
      assert.equal(over.items.length, 0);
    } finally {
      await inline.close();
      await worker.close();
    }
  });

  it('L4: past parseHeapMiB or parseTimeoutMs, or not JSON: an error naming it; the next answer gets a new worker', async () => {
    // no time bound to speak of: only the heap may stop this parse (near its limit a busy machine's GC takes long)
    const parser = new BodyParser({ inlineParseBytes: 16, parseHeapMiB: 64, parseTimeoutMs: 600_000 });
    const flood = (): Uint8Array => encode(`[${'{},'.repeat(4_000_000)}{}]`);
    const small = (): Uint8Array => encode(JSON.stringify({ web: [], consul: [], api: [] }));
    try {
      await assert.rejects(
        parser.parse(
          flood(),
          { kind: 'consul-health', name: 'h', maxInstances: 10, maxLabelBytes: 4096 },
          'GET /v1/health/service/h',
        ),
        (error: Error) =>
          error instanceof RegistryLimitError &&
          /GET \/v1\/health\/service\/h: parsing the answer needed more than 64 MiB, the limit \(parseHeapMiB\)/.test(
            error.message,
          ),
      );
      await assert.rejects(
        parser.parse(encode('{"not": json}'.padEnd(64)), { kind: 'consul-catalog', maxNames: 5 }, 'GET /c'),
        /GET \/c: the answer could not be read \(SyntaxError: /,
      );
      const names = await parser.parse(small(), { kind: 'consul-catalog', maxNames: 5 }, 'GET /c');
      assert.deepEqual(names, { meta: { count: 2 }, items: ['api', 'web'] });
      assert.equal(parser.counts().started, 2, 'a new worker after the one that ran out of heap');
      assert.equal(parser.counts().failed, 1);
    } finally {
      await parser.close();
    }
    // a time bound shorter than starting a worker: every parse in the worker runs out of it
    const slow = new BodyParser({ inlineParseBytes: 16, parseTimeoutMs: 1 });
    try {
      await assert.rejects(
        slow.parse(small(), { kind: 'consul-catalog', maxNames: 5 }, 'GET /c'),
        (error: Error) =>
          error instanceof RegistryLimitError &&
          /GET \/c: parsing the answer took longer than 1 ms, the limit \(parseTimeoutMs\)/.test(
            error.message,
          ),
      );
    } finally {
      await slow.close();
    }
    await assert.rejects(slow.parse(small(), { kind: 'consul-catalog', maxNames: 5 }, 'GET /c'), /stopped/);
    assert.equal(defaultParseOptions.inlineParseBytes, 64 * 1024);
  });
});
