import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { createPushDebouncer, type PushBatch } from './debounce.js';

/** Lets promise callbacks run (setImmediate is not mocked). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('createPushDebouncer (mock timers)', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 }));
  afterEach(() => mock.timers.reset());

  it('pushes once no change has come for quietMs, merging every change', () => {
    const pushes: PushBatch<string>[] = [];
    const d = createPushDebouncer<string>({ quietMs: 100, maxMs: 1000, onPush: (b) => void pushes.push(b) });
    d.schedule('a');
    mock.timers.tick(60);
    d.schedule('b');
    mock.timers.tick(99);
    assert.equal(pushes.length, 0, 'the quiet period restarts with each change');
    assert.equal(d.pending, 2);
    mock.timers.tick(1);
    assert.equal(pushes.length, 1);
    assert.deepEqual(pushes[0], {
      changes: ['a', 'b'],
      firstAt: 1_000_000,
      lastAt: 1_000_060,
      reason: 'quiet',
    });
    assert.equal(d.pending, 0);
    mock.timers.tick(10_000);
    assert.equal(pushes.length, 1, 'nothing more without changes');
  });

  it('pushes maxMs after the first change however busy, then starts a new batch', () => {
    const pushes: PushBatch<number>[] = [];
    const d = createPushDebouncer<number>({ quietMs: 100, maxMs: 300, onPush: (b) => void pushes.push(b) });
    for (let i = 0; i < 10; i++) {
      d.schedule(i);
      mock.timers.tick(50);
    }
    // Changes at t = 0, 50, …, 450 (now t = 500). The first batch went at t = 300 (maxMs after the first change)
    // with the changes of t = 0..250; the next batch starts with the change of t = 300.
    assert.equal(pushes.length, 1);
    assert.equal(pushes[0]?.reason, 'max');
    assert.deepEqual(pushes[0]?.changes, [0, 1, 2, 3, 4, 5]);
    mock.timers.tick(49);
    assert.equal(pushes.length, 1);
    mock.timers.tick(1);
    assert.equal(pushes.length, 2, 'quietMs after the last change (t = 450)');
    assert.deepEqual(pushes[1]?.changes, [6, 7, 8, 9]);
    assert.equal(pushes[1]?.reason, 'quiet');
  });

  it('runs one push at a time: changes during a push wait for it, then for their own quiet period', async () => {
    const pushes: PushBatch<string>[] = [];
    let finish: () => void = () => {};
    const d = createPushDebouncer<string>({
      quietMs: 100,
      maxMs: 1000,
      onPush: (b) => {
        pushes.push(b);
        return new Promise<void>((resolve) => {
          finish = resolve;
        });
      },
    });
    d.schedule('a');
    mock.timers.tick(100);
    assert.equal(pushes.length, 1);
    d.schedule('b');
    mock.timers.tick(500);
    assert.equal(pushes.length, 1, 'held while the first push runs');
    finish();
    await settle();
    mock.timers.tick(0);
    assert.equal(pushes.length, 2, 'quiet period already over: pushed as soon as the first push ended');
    assert.deepEqual(pushes[1]?.changes, ['b']);
    d.schedule('c');
    finish();
    await settle();
    mock.timers.tick(99);
    assert.equal(pushes.length, 2, 'c still has its quiet period to wait');
    mock.timers.tick(1);
    assert.deepEqual(pushes[2]?.changes, ['c']);
    finish();
    await d.close();
  });

  it('flush pushes pending changes now', async () => {
    const pushes: PushBatch<string>[] = [];
    const d = createPushDebouncer<string>({ onPush: (b) => void pushes.push(b) });
    d.schedule('a');
    await d.flush();
    assert.deepEqual(
      pushes.map((p) => [p.reason, p.changes]),
      [['flush', ['a']]],
    );
    mock.timers.tick(1000);
    assert.equal(pushes.length, 1);
  });

  it('close drops pending changes (or pushes them with flush) and ignores later ones', async () => {
    const pushes: PushBatch<string>[] = [];
    const d = createPushDebouncer<string>({ onPush: (b) => void pushes.push(b) });
    d.schedule('dropped');
    await d.close();
    assert.equal(d.closed, true);
    d.schedule('ignored');
    mock.timers.tick(20_000);
    assert.equal(pushes.length, 0);

    const e = createPushDebouncer<string>({ onPush: (b) => void pushes.push(b) });
    e.schedule('kept');
    await e.close({ flush: true });
    assert.deepEqual(pushes[0]?.changes, ['kept']);
  });

  it('an aborted signal closes it', () => {
    const pushes: PushBatch<string>[] = [];
    const controller = new AbortController();
    const d = createPushDebouncer<string>({ signal: controller.signal, onPush: (b) => void pushes.push(b) });
    d.schedule('a');
    controller.abort();
    mock.timers.tick(20_000);
    assert.equal(d.closed, true);
    assert.equal(pushes.length, 0);
  });

  it('hands push errors to onError and keeps going', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const d = createPushDebouncer<string>({
      quietMs: 10,
      onError: (e) => errors.push(e),
      onPush: () => {
        calls++;
        if (calls === 1) throw new Error('sync');
        return Promise.reject(new Error('async'));
      },
    });
    d.schedule('a');
    mock.timers.tick(10);
    d.schedule('b');
    mock.timers.tick(10);
    await settle();
    assert.deepEqual(
      errors.map((e) => (e as Error).message),
      ['sync', 'async'],
    );
    d.schedule('c');
    mock.timers.tick(10);
    assert.equal(calls, 3);
    await settle();
  });
});

describe('createPushDebouncer (real timers)', () => {
  it('pushes a burst once, within a deadline', async () => {
    let resolve: (batch: PushBatch<number>) => void = () => {};
    const pushed = new Promise<PushBatch<number>>((r) => {
      resolve = r;
    });
    const d = createPushDebouncer<number>({ quietMs: 20, maxMs: 200, onPush: (b) => resolve(b) });
    for (let i = 0; i < 5; i++) d.schedule(i);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no push within 2 s')), 2000);
    });
    try {
      const batch = await Promise.race([pushed, deadline]);
      assert.deepEqual(batch.changes, [0, 1, 2, 3, 4]);
      assert.equal(batch.reason, 'quiet');
    } finally {
      clearTimeout(timer);
      await d.close();
    }
  });
});
