// Rule L2 for what a registry server answers: bodies are read with a bound, error answers included (a registry is a
// server outside this process; an endless error body must not be held whole). A real HTTP server on loopback that
// answers 500 with a body that never ends, as a broken or hostile registry endpoint would. And the budget that reads
// running at once share: bounded together, with a part big reads cannot take, so a small read is never refused
// because big ones hold the rest.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { ByteBudget, RegistryLimitError, readErrorText, readJsonBody } from './http-body.js';

describe('registry response bodies', () => {
  const open = new Set<ServerResponse>();
  let sent = 0;
  const server = createServer((_request, response) => {
    open.add(response);
    response.on('close', () => open.delete(response));
    response.writeHead(500, { 'content-type': 'text/plain' });
    const chunk = Buffer.alloc(64 * 1024, 'e');
    // Writes until the client goes away, at most 64 MiB.
    const pump = (): void => {
      while (!response.destroyed && sent < 64 * 1024 * 1024) {
        sent += chunk.length;
        if (!response.write(chunk)) {
          response.once('drain', pump);
          return;
        }
      }
      response.end();
    };
    pump();
  });
  after(() => {
    for (const response of open) response.destroy();
    server.close();
  });

  async function get(): Promise<Response> {
    if (!server.listening) {
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
    }
    const { port } = server.address() as AddressInfo;
    return fetch(`http://127.0.0.1:${port}/v1/catalog/services`);
  }

  it('L2: an endless error body is read up to 4 KiB for the message, and the read is cancelled', async () => {
    sent = 0;
    const response = await get();
    assert.equal(response.status, 500);
    const text = await readErrorText(response);
    assert.equal(text.length, 4096);
    assert.ok(/^e+$/.test(text));
    const stopped = sent;
    assert.ok(stopped < 64 * 1024 * 1024, `the server sent ${stopped} bytes: the client read it all`);
  });

  it('L2: a body past maxRegistryResponseBytes is a RegistryLimitError naming the limit', async () => {
    sent = 0;
    const response = await get();
    await assert.rejects(readJsonBody(response, 1024 * 1024, 'GET /v1/catalog/services'), (error: Error) => {
      assert.ok(error instanceof RegistryLimitError);
      assert.match(error.message, /over the limit of 1048576 \(maxRegistryResponseBytes\)/);
      return true;
    });
  });
});

describe('ByteBudget', () => {
  it('L2: big reads hold at most three quarters of the limit; the rest is kept for reads that are still small', () => {
    const limit = 64 * 1024;
    const budget = new ByteBudget(limit);
    assert.deepEqual([budget.reserve, budget.smallReadBytes], [16 * 1024, 1024]);
    const big = [budget.read(), budget.read(), budget.read(), budget.read()];
    // each big read asks for 32 KiB in 4 KiB chunks, until it is refused
    const refusals: string[] = [];
    for (const read of big) {
      for (let i = 0; i < 8; i++) {
        if (!read.take(4096)) {
          refusals.push(read.refusal(4096));
          break;
        }
      }
    }
    assert.deepEqual(
      big.map((read) => read.held()),
      [32 * 1024, 16 * 1024, 0, 0],
    );
    assert.equal(budget.largeHeld(), limit - budget.reserve);
    assert.equal(refusals.length, 3);
    assert.match(
      refusals[0] ?? '',
      /more than 49152 bytes at once: the rest of the limit of 65536 \(maxRegistryBytesInFlight\) is kept for smaller ones/,
    );

    // small reads share the reserve: 16 of 1 KiB fill it, the 17th is refused naming the limit
    const small = Array.from({ length: 17 }, () => budget.read());
    assert.deepEqual(
      small.map((read) => read.take(1024)),
      [...Array.from({ length: 16 }, () => true), false],
    );
    assert.match(
      small[16]!.refusal(1024),
      /more than 65536 bytes at once, the limit \(maxRegistryBytesInFlight\)/,
    );
    assert.equal(budget.held(), limit);
    // one byte more makes a small read a big one, and the big ones' part is full
    small[0]!.release();
    assert.equal(small[1]!.take(1), false);
    assert.equal(small[0]!.held(), 0);

    for (const read of [...big, ...small]) read.release();
    assert.deepEqual([budget.held(), budget.largeHeld(), budget.peak()], [0, 0, limit]);
  });
});
