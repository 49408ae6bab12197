import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Harness, start } from './test-harness.js';

/** Sends raw bytes and resolves with everything the server answers before it closes. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
    socket.end(bytes);
  });
}

describe('REST listener: hostile request targets', () => {
  let h: Harness;
  let port: number;
  before(async () => {
    h = await start();
    port = await h.server.listenRest('127.0.0.1:0');
  });
  after(() => h?.close());

  it('L4: targets that are not a path, or not HTTP at all, get an answer and the listener keeps serving', async () => {
    for (const target of ['http://[', '*', '//x', '/%', 'http://host/v3/discovery:clusters'])
      assert.match(
        await raw(
          port,
          `POST ${target} HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`,
        ),
        /^HTTP\/1\.1 (400|404)/,
        target,
      );
    assert.match(await raw(port, 'GARBAGE\r\n\r\n'), /^HTTP\/1\.1 400/);
    const ok = await raw(
      port,
      'POST /v3/discovery:clusters HTTP/1.1\r\nhost: x\r\ncontent-length: 20\r\nconnection: close\r\n\r\n{"node":{"id":"n1"}}',
    );
    assert.match(ok, /^HTTP\/1\.1 200/);
  });
});
