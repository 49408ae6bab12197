// Rule L2 for what a registry server answers: bodies are read with a bound, error answers included (a registry is a
// server outside this process; an endless error body must not be held whole). A real HTTP server on loopback that
// answers 500 with a body that never ends, as a broken or hostile registry endpoint would.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { RegistryLimitError, readErrorText, readJsonBody } from './http-body.js';

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
