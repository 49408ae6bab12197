// REST xDS over a real HTTP client: answers a client can read whatever it sent (rule L4), and the same events as
// streams.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { type Harness, start } from './test-harness.js';

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** Sends one request with node's HTTP client, body in 64 KiB chunks; resolves with the answer or rejects. */
export function send(port: number, method: string, path: string, body: string | Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: { 'content-type': 'application/json', 'content-length': bytes.length },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    let at = 0;
    const pump = () => {
      while (at < bytes.length) {
        const chunk = bytes.subarray(at, at + 65_536);
        at += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

describe('REST: answers a client can read', () => {
  let h: Harness;
  let port: number;
  before(async () => {
    h = await start({ maxMessageBytes: 4 * 1024 * 1024 });
    port = await h.server.listenRest('127.0.0.1:0');
  });
  after(() => h?.close());

  it('L4: a wrong method with a 3 MiB body gets 405 (not a reset), and the listener serves on', async () => {
    for (const method of ['PUT', 'DELETE', 'PATCH']) {
      const answer = await send(port, method, '/v3/discovery:clusters', Buffer.alloc(3 * 1024 * 1024, 'x'));
      assert.equal(answer.status, 405, method);
      assert.equal(answer.headers.allow, 'POST');
      assert.match(answer.body, /takes POST/);
    }
    const ok = await send(port, 'POST', '/v3/discovery:clusters', '{"node":{"id":"n1"}}');
    assert.equal(ok.status, 200);
  });

  it('L4: an unknown path with a 30 MiB body gets 404 (not a reset)', async () => {
    const answer = await send(port, 'POST', '/v3/discovery:nothing', Buffer.alloc(30 * 1024 * 1024, 'x'));
    assert.equal(answer.status, 404);
  });

  it('L2, L4: a body over the limit gets 413 naming the limit (not a reset)', async () => {
    const answer = await send(port, 'POST', '/v3/discovery:clusters', Buffer.alloc(5 * 1024 * 1024, 'x'));
    assert.equal(answer.status, 413);
    assert.match(answer.body, /larger than 4194304 bytes/);
  });

  it('L2, L4: a wrong method with a body over the limit has its connection closed, and the listener serves on', async () => {
    await send(port, 'PUT', '/v3/discovery:clusters', Buffer.alloc(12 * 1024 * 1024, 'x')).then(
      (answer) => assert.fail(`answered ${answer.status}`),
      (error: NodeJS.ErrnoException) => assert.match(error.code ?? '', /ECONNRESET|EPIPE/),
    );
    const ok = await send(port, 'POST', '/v3/discovery:clusters', '{"node":{"id":"n1"}}');
    assert.equal(ok.status, 200);
  });

  it('L2, L4: past twice the limit the connection is closed, and the listener serves on', async () => {
    await send(port, 'POST', '/v3/discovery:clusters', Buffer.alloc(12 * 1024 * 1024, 'x')).then(
      (answer) => assert.equal(answer.status, 413),
      (error: NodeJS.ErrnoException) => assert.match(error.code ?? '', /ECONNRESET|EPIPE/),
    );
    const ok = await send(port, 'POST', '/v3/discovery:clusters', '{"node":{"id":"n1"}}');
    assert.equal(ok.status, 200);
  });
});
