// Rule L2: the REST request bodies a server holds at once are bounded (limits.maxRestBytesInFlight), counted as the
// memory they hold while decoded (restMemoryFactor, 3, times their bytes): over real HTTP, a body that does not fit
// while another is held gets 503 with Retry-After naming the limit, the bytes of answered requests are given back,
// and a body that could not fit even alone gets 413. One peer address holds at most its share
// (limits.maxRestBytesInFlightPerPeer): its slow uploads cannot refuse another peer's request (probe7 N6).
import assert from 'node:assert/strict';
import { type ClientRequest, request as httpRequest } from 'node:http';
import { describe, it } from 'node:test';
import { start } from './test-harness.js';

interface Answer {
  readonly status: number;
  readonly retryAfter: string | undefined;
  readonly body: string;
}

/**
 * POSTs a body with node's HTTP client (chunked, without Content-Length, with `chunked`) from `from` (a loopback
 * address); resolves with the answer.
 */
function post(port: number, body: string, chunked = false, from = '127.0.0.1'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const bytes = Buffer.from(body);
    const req = httpRequest(
      {
        host: '127.0.0.1',
        localAddress: from,
        port,
        method: 'POST',
        path: '/v3/discovery:clusters',
        headers: {
          'content-type': 'application/json',
          ...(chunked ? {} : { 'content-length': bytes.length }),
        },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: res.headers['retry-after'],
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (chunked) {
      // several chunks: the server learns the size only as it reads
      for (let at = 0; at < bytes.length; at += 64 * 1024) req.write(bytes.subarray(at, at + 64 * 1024));
      req.end();
    } else req.end(bytes);
  });
}

/**
 * Starts a POST from 127.0.0.1 that declares `declared` bytes and sends only `sent` of them, then nothing: a slow
 * upload whose bytes the server holds until the request ends (the caller destroys it).
 */
function stall(port: number, declared: number, sent: number): ClientRequest {
  const req = httpRequest({
    host: '127.0.0.1',
    localAddress: '127.0.0.1',
    port,
    method: 'POST',
    path: '/v3/discovery:clusters',
    headers: { 'content-type': 'application/json', 'content-length': declared },
    agent: false,
  });
  req.on('error', () => {});
  req.write(Buffer.alloc(sent, 0x20));
  return req;
}

/** A DiscoveryRequest for node `id` of about `size` bytes (the padding is resource names). */
function discovery(id: string, size: number): string {
  const names = Array.from({ length: Math.ceil(size / 1000) }, (_, i) => `${i}`.padEnd(990, 'x'));
  return JSON.stringify({ node: { id }, resourceNames: ['c1', ...names] });
}

describe('REST bodies in flight (rule L2)', () => {
  it('L2: a body counts 3 times its bytes; one that does not fit in limits.maxRestBytesInFlight gets 503 with Retry-After; answered bodies give their bytes back', async () => {
    let entered!: () => void;
    const held = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The hook holds node "held"'s request (and so its body) until the test releases it.
    const h = await start({
      limits: { maxRestBytesInFlight: 3 * 1024 * 1024 },
      hooks: {
        onRequest: (_request, ctx) => {
          if (ctx.nodeId !== 'held') return undefined;
          entered();
          return released;
        },
      },
    });
    h.cache.setSnapshot('held', h.cache.getSnapshot('n1')!);
    try {
      const port = await h.server.listenRest('127.0.0.1:0');
      const first = post(port, discovery('held', 600 * 1024));
      await held;
      // 600 KiB are held, counted 1.8 MiB: another 600 KiB body does not fit in 3 MiB (its raw bytes would).
      const refused = await post(port, discovery('n1', 600 * 1024));
      assert.equal(refused.status, 503);
      assert.equal(refused.retryAfter, '1');
      assert.match(
        refused.body,
        /limits\.maxRestBytesInFlight \(3145728 bytes, counting 3 times a body's size/,
      );
      // A small one fits beside it.
      const small = await post(port, discovery('n1', 10 * 1024));
      assert.equal(small.status, 200);
      assert.match(small.body, /"name":"c1"/);
      release();
      assert.equal((await first).status, 200);
      // The held body was given back: 600 KiB fit again, twice in a row.
      for (let i = 0; i < 2; i++) assert.equal((await post(port, discovery('n1', 600 * 1024))).status, 200);
    } finally {
      release();
      await h.close();
    }
  });

  for (const chunked of [false, true]) {
    it(`L2: a body whose 3 times its bytes pass limits.maxRestBytesInFlight alone gets 413 naming it${chunked ? ' (chunked, no Content-Length)' : ''}`, async () => {
      const h = await start({ limits: { maxRestBytesInFlight: 3 * 1024 * 1024 } });
      try {
        const port = await h.server.listenRest('127.0.0.1:0');
        // 1.1 MiB of body hold about 3.3 MiB while decoded: it could never fit, so no Retry-After
        const answer = await post(port, discovery('n1', 1100 * 1024), chunked);
        assert.equal(answer.status, 413);
        assert.equal(answer.retryAfter, undefined);
        assert.match(
          answer.body,
          /holds about 3 times its size while decoded, more than limits\.maxRestBytesInFlight \(3145728 bytes\) allows; bodies of up to 1048576 bytes fit/,
        );
        // nothing stays counted: a body that fits is answered
        assert.equal((await post(port, discovery('n1', 900 * 1024), chunked)).status, 200);
      } finally {
        await h.close();
      }
    });
  }

  it('L2: slow uploads from one peer hold at most limits.maxRestBytesInFlightPerPeer; another peer is answered (probe7 N6)', async () => {
    const h = await start({
      limits: { maxRestBytesInFlight: 3 * 1024 * 1024, maxRestBytesInFlightPerPeer: 1024 * 1024 },
    });
    const uploads: ClientRequest[] = [];
    try {
      const port = await h.server.listenRest('127.0.0.1:0');
      // 3 uploads of 340 KiB, counted 1,020 KiB each: together they would hold all but 12 KiB of the 3 MiB; one
      // fills 127.0.0.1's 1 MiB share.
      for (let i = 0; i < 3; i++) uploads.push(stall(port, 341 * 1024, 340 * 1024));
      // Poll (with a deadline) until 127.0.0.1 is refused: its uploads' bytes are held.
      let own: Answer | undefined;
      for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
        own = await post(port, discovery('n1', 10 * 1024));
        if (own.status === 503) break;
      }
      assert.equal(own?.status, 503);
      assert.equal(own?.retryAfter, '1');
      // A bystander on another address is answered (before the per-peer share: 503, the total was full).
      const bystander = await post(port, discovery('n1', 10 * 1024), false, '127.0.0.2');
      assert.equal(bystander.status, 200, bystander.body);
      assert.match(bystander.body, /"name":"c1"/);
      assert.match(
        own?.body ?? '',
        /the REST request bodies peer 127\.0\.0\.1 holds passed limits\.maxRestBytesInFlightPerPeer \(1048576 bytes/,
      );
      // A body that could not fit in the share even alone gets 413 naming it, not a retry.
      const big = await post(port, discovery('n1', 400 * 1024), false, '127.0.0.2');
      assert.equal(big.status, 413);
      assert.match(big.body, /more than limits\.maxRestBytesInFlightPerPeer \(1048576 bytes\) allows/);
      // Once the uploads end, 127.0.0.1's share is given back.
      for (const upload of uploads) upload.destroy();
      let after: Answer | undefined;
      for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
        after = await post(port, discovery('n1', 300 * 1024));
        if (after.status === 200) break;
      }
      assert.equal(after?.status, 200);
    } finally {
      for (const upload of uploads) upload.destroy();
      await h.close();
    }
  });
});
