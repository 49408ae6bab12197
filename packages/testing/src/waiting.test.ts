import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { ClusterSchema, TypeUrl } from '@xds/api';
import { XdsTestClient } from './client.js';
import { pack, ScriptedServer, sotwResponse, withClient } from './test-support/scripted-server.js';

const clusters = (...names: string[]) => pack(ClusterSchema, ...names.map((name) => ({ name })));

describe('waiting and ending', { timeout: 20_000 }, () => {
  it('next() rejects after its deadline with a message naming the type and what came', async () => {
    await withClient({}, async (client, server) => {
      client.subscribe(TypeUrl.Cluster, ['a']);
      client.subscribe(TypeUrl.Listener, []);
      const stream = await server.streams.shift();
      stream.send(sotwResponse(TypeUrl.Listener, 'l1', 'n1', []));
      stream.send(sotwResponse(TypeUrl.Cluster, 'v1', 'n2', clusters('a')));
      await client.next(TypeUrl.Cluster);
      const started = performance.now();
      await assert.rejects(client.next(TypeUrl.Cluster, { timeoutMs: 50 }), (error: Error) => {
        assert.match(error.message, /^next\(Cluster\): no new Cluster response/);
        assert.ok(error.message.includes(TypeUrl.Cluster), error.message);
        assert.match(error.message, /within 50 ms/);
        assert.match(error.message, /Received 1 Cluster response\(s\), all already returned by next\(\)/);
        assert.match(error.message, /version "v1", nonce "n2", \[a\], ACKed/);
        assert.match(error.message, /Other types received: Listener x1/);
        return true;
      });
      assert.ok(performance.now() - started < 1500);
      await assert.rejects(client.next(TypeUrl.Route, { timeoutMs: 20 }), /Received no Route response/);
    });
  });

  it('next() returns each response once, in order, to concurrent callers too', async () => {
    await withClient({}, async (client, server) => {
      client.subscribe(TypeUrl.Cluster, ['a']);
      const stream = await server.streams.shift();
      const first = client.next(TypeUrl.Cluster);
      const second = client.next(TypeUrl.Cluster);
      stream.send(sotwResponse(TypeUrl.Cluster, 'v1', 'n1', clusters('a')));
      stream.send(sotwResponse(TypeUrl.Cluster, 'v2', 'n2', clusters('a')));
      stream.send(sotwResponse(TypeUrl.Cluster, 'v3', 'n3', clusters('a')));
      assert.equal((await first).nonce, 'n1');
      assert.equal((await second).nonce, 'n2');
      assert.equal((await client.next(TypeUrl.Cluster)).nonce, 'n3');
      assert.deepEqual(
        client.responses(TypeUrl.Cluster).map((r) => r.versionInfo),
        ['v1', 'v2', 'v3'],
      );
    });
  });

  it('waitFor() matches past and future responses and sees what the client held then', async () => {
    await withClient({}, async (client, server) => {
      client.subscribe(TypeUrl.Cluster, ['a', 'b']);
      const stream = await server.streams.shift();
      stream.send(sotwResponse(TypeUrl.Cluster, 'v1', 'n1', clusters('a')));
      const future = client.waitFor(TypeUrl.Cluster, (_r, state) => state.resources.has('b'));
      const past = await client.waitFor(TypeUrl.Cluster, (r) => r.versionInfo === 'v1');
      assert.equal(past.nonce, 'n1');
      stream.send(sotwResponse(TypeUrl.Cluster, 'v2', 'n2', clusters('a', 'b')));
      assert.equal((await future).versionInfo, 'v2');
      // Past responses are judged by what the client held right after each.
      const again = await client.waitFor(TypeUrl.Cluster, (_r, state) => state.resources.size === 1);
      assert.equal(again.versionInfo, 'v1');
      await assert.rejects(
        client.waitFor(TypeUrl.Cluster, () => false, { timeoutMs: 30 }),
        /^Error: waitFor\(Cluster\): no Cluster response matched .* Received 2 Cluster response\(s\)/,
      );
      await assert.rejects(
        client.waitFor(TypeUrl.Cluster, () => {
          throw new Error('boom');
        }),
        /boom/,
      );
    });
  });

  it('onResponse() sees each response after it was answered', async () => {
    await withClient({}, async (client, server) => {
      const seen: [string, boolean | undefined][] = [];
      const stop = client.onResponse((r) => seen.push([r.nonce, r.acked]));
      client.subscribe(TypeUrl.Cluster, ['a']);
      const stream = await server.streams.shift();
      stream.send(sotwResponse(TypeUrl.Cluster, 'v1', 'n1', clusters('a')));
      await client.next(TypeUrl.Cluster);
      stop();
      stream.send(sotwResponse(TypeUrl.Cluster, 'v2', 'n2', clusters('a')));
      await client.next(TypeUrl.Cluster);
      assert.deepEqual(seen, [['n1', true]]);
    });
  });

  it("ended() reports the server's status; waiting for the type then fails at once", async () => {
    await withClient({}, async (client, server) => {
      client.subscribe(TypeUrl.Cluster, ['a']);
      const stream = await server.streams.shift();
      await stream.nextSotw();
      const pending = client.next(TypeUrl.Cluster);
      stream.fail(status.INVALID_ARGUMENT, 'node id missing');
      const end = await client.ended();
      assert.equal(end.code, status.INVALID_ARGUMENT);
      assert.equal(end.details, 'node id missing');
      assert.equal(end.path, stream.path);
      assert.deepEqual(await client.ended(TypeUrl.Cluster), end);
      await assert.rejects(
        pending,
        /next\(Cluster\): the stream .* ended with 3 INVALID_ARGUMENT: "node id missing"/,
      );
      await assert.rejects(
        client.waitFor(TypeUrl.Endpoint, () => true),
        /INVALID_ARGUMENT/,
      );
      assert.throws(
        () => client.subscribe(TypeUrl.Endpoint, ['a']),
        /the stream ended with 3 INVALID_ARGUMENT/,
      );
    });
  });

  it('per-type mode: ended(type) is the end of that type’s stream', async () => {
    await withClient({ ads: false }, async (client, server) => {
      client.subscribe(TypeUrl.Cluster, ['a']);
      const cds = await server.streams.shift();
      client.subscribe(TypeUrl.Listener, ['l']);
      await server.streams.shift();
      cds.fail(status.FAILED_PRECONDITION, 'no');
      assert.equal((await client.ended(TypeUrl.Cluster)).code, status.FAILED_PRECONDITION);
      assert.equal((await client.ended()).code, status.FAILED_PRECONDITION);
      // The listener stream is still up.
      await assert.rejects(client.next(TypeUrl.Listener, { timeoutMs: 20 }), /within 20 ms/);
    });
  });

  it('close() cancels the streams and fails whatever still waits', async () => {
    const server = await ScriptedServer.start();
    try {
      const client = new XdsTestClient({ address: server.address, node: 'n', ads: false });
      client.subscribe(TypeUrl.Cluster, ['a']);
      await server.streams.shift();
      const pending = client.next(TypeUrl.Cluster);
      const never = client.next(TypeUrl.Route);
      await client.close();
      await client.close();
      await assert.rejects(pending, /CANCELLED/);
      await assert.rejects(never, /client was closed/);
      assert.equal((await client.ended()).code, status.CANCELLED);
      assert.throws(() => client.subscribe(TypeUrl.Cluster, ['b']), /closed/);
    } finally {
      server.close();
    }
  });
});
