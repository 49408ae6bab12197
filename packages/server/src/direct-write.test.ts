// The direct write path (direct-write.ts): responses go to the HTTP/2 stream as header with the nonce, then shared body,
// with our pinned grpc-js; the budget's accounting (rule S12) still follows the flush; any other call layout or an
// oversized message takes grpc-js's own path.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromBinary } from '@bufbuild/protobuf';
import { ServerInterceptingCall, type ServerInterceptingCallInterface, status } from '@grpc/grpc-js';
import { DiscoveryResponseSchema, TypeUrl } from '@xds/api';
import { encodeResource, Snapshot, type SotwResponse } from '@xds/cache';
import { encodeSotwParts, joinResponse } from './codec.js';
import { writePaths, writesDirect } from './direct-write.js';
import { assignment, cluster, nextEvent, start } from './test-harness.js';
import { methodPathOf, RawConnection, until } from './test-raw-client.js';

const { Cluster, Endpoint, Listener, Route } = TypeUrl;
const names = Array.from({ length: 2000 }, (_, i) => `svc-${i}`);

/** 2,000 assignments: a response of about 100 KB, many HTTP/2 DATA frames. */
function large(port: number): Snapshot {
  return Snapshot.create(
    names.map((name, i) => assignment(name, port + (i % 1000))),
    { version: `p${port}` },
  );
}

function counts() {
  return { ...writePaths };
}

describe('the direct write path', () => {
  it('S12: with the pinned grpc-js, every SotW and delta response is written straight to its HTTP/2 stream', async () => {
    const h = await start();
    let responses = 0;
    h.server.on('response', () => responses++);
    const before = counts();
    try {
      const sotw = h.client();
      const delta = h.client({ protocol: 'delta' });
      for (const client of [sotw, delta]) {
        client.subscribe(Cluster, []);
        client.subscribe(Endpoint, ['c1', 'c2']);
        client.subscribe(Listener, []);
        client.subscribe(Route, ['r1']);
      }
      for (const client of [sotw, delta])
        for (const type of [Cluster, Endpoint, Listener, Route]) {
          const response = await client.next(type);
          assert.deepEqual(response.errors, [], `${type}: decoded cleanly`);
        }
      assert.deepEqual(sotw.responses(Endpoint)[0]!.names, ['c1', 'c2']);
      assert.deepEqual(delta.responses(Route)[0]!.names, ['r1']);
      const after = counts();
      assert.equal(after.fallback, before.fallback, 'no response took grpc-js’s own write path');
      assert.equal(after.direct - before.direct, responses, 'every response was written directly');
      assert.ok(responses >= 8);
    } finally {
      await h.close();
    }
  });

  it('a shared body is one buffer for every stream, never changed; each stream gets it with its own nonce', async () => {
    const entries = Object.freeze(names.slice(0, 50).map((n, i) => encodeResource(assignment(n, 7000 + i))));
    const response: SotwResponse = {
      typeUrl: Endpoint,
      version: 'v1',
      resources: entries,
      ttls: undefined,
      changed: [],
    };
    const first = encodeSotwParts(response, 'a', 'cp');
    const copy = Buffer.from(first.body);
    const second = encodeSotwParts(response, 'b', 'cp');
    assert.equal(second.body, first.body, 'the same buffer, by reference');
    assert.notEqual(second.head, first.head);
    // Joining (grpc-js's own path) copies; the shared body stays as it was.
    const joined = fromBinary(DiscoveryResponseSchema, joinResponse(second));
    assert.equal(joined.nonce, 'b');
    assert.equal(joined.resources.length, 50);
    assert.equal(joined.controlPlane?.identifier, 'cp');
    assert.deepEqual(Buffer.from(first.body), copy);
    assert.equal(fromBinary(DiscoveryResponseSchema, joinResponse(first)).nonce, 'a');

    // Over real streams: ten clients get the same 100 KB body (many DATA frames), each with its nonce.
    const h = await start({}, {}, large(20_000));
    try {
      // A generous deadline (not a timing assertion): ten 100 KB responses on a loaded machine.
      const clients = Array.from({ length: 10 }, () => h.client({ timeoutMs: 60_000 }));
      for (const client of clients) client.subscribe(Endpoint, names);
      const got = await Promise.all(clients.map((c) => c.next(Endpoint)));
      for (const [i, r] of got.entries()) {
        assert.deepEqual(r.errors, [], `client ${i}`);
        assert.equal(r.names.length, names.length);
        assert.equal(r.versionInfo, 'p20000');
      }
      const resource = clients[3]!.resources(Endpoint).get('svc-1234') as unknown as { endpoints: unknown[] };
      assert.equal(resource.endpoints.length, 1);
      // A push: every stream gets the new body, again shared.
      h.cache.setSnapshot('n1', large(30_000));
      await Promise.all(clients.map((c) => c.waitFor(Endpoint, (r) => r.versionInfo === 'p30000')));
    } finally {
      await h.close();
    }
  });

  it('S12: a direct write counts until the client read it: its callback follows the flush, not the write', async () => {
    const h = await start({}, {}, large(40_000));
    const connection = new RawConnection(Number(h.address.split(':')[1]), { window: 0 });
    const before = counts();
    try {
      const stream = connection.open(methodPathOf('sotw'));
      const written = nextEvent(h.server, 'response', (e) => e.nodeId === 'n1');
      stream.send({ node: { id: 'n1' }, typeUrl: Endpoint, resourceNames: names });
      const event = await written;
      assert.equal(counts().direct - before.direct, 1, 'written directly');
      const held = h.server.writeBudget();
      assert.equal(held.unflushedWrites, 1, 'not flushed while the client grants no window');
      assert.equal(held.unflushedBytes, event.bytes);
      connection.grant(1 << 20);
      await until(() => h.server.writeBudget().unflushedWrites === 0, 'the write to be flushed');
      await until(() => stream.responses.length === 1, 'the response to arrive');
      // The raw client parses the gRPC framing itself: header and nonce, then body, arrived as one message.
      const response = stream.responses[0]!;
      assert.equal(response.nonce, event.nonce);
      assert.equal(response.versionInfo, 'p40000');
      assert.equal(response.resources.length, names.length);
      assert.equal(h.server.writeBudget().inFlightBytes, 0);
    } finally {
      connection.close();
      await h.close();
    }
  });

  it('behind a server interceptor, responses take grpc-js’s own path and every one passes the interceptor', async () => {
    let seen = 0;
    const interceptor = (_method: unknown, call: ServerInterceptingCallInterface) =>
      new ServerInterceptingCall(call, {
        sendMessage(message, next) {
          seen++;
          next(message);
        },
      });
    const h = await start({ grpcOptions: { interceptors: [interceptor] } }, {}, large(50_000));
    const before = counts();
    try {
      const client = h.client({ timeoutMs: 60_000 });
      client.subscribe(Endpoint, names);
      const response = await client.next(Endpoint);
      assert.deepEqual(response.errors, []);
      assert.equal(response.names.length, names.length);
      h.cache.setSnapshot('n1', large(60_000));
      await client.waitFor(Endpoint, (r) => r.versionInfo === 'p60000');
      const after = counts();
      assert.equal(after.direct, before.direct, 'nothing bypassed the interceptor');
      assert.equal(after.fallback - before.fallback, 2);
      assert.equal(seen, 2, 'the interceptor saw both responses');
    } finally {
      await h.close();
    }
  });

  it('L2: a response over maxMessageBytes takes grpc-js’s path, which ends the stream with RESOURCE_EXHAUSTED', async () => {
    // 300 clusters, about 10 KB, for wildcard requests (a request naming them would be over the limit itself).
    const clusters = Snapshot.create(names.slice(0, 300).map((n) => cluster(n)));
    const h = await start({ maxMessageBytes: 4096 }, {}, clusters);
    const before = counts();
    try {
      const small = h.client();
      small.subscribe(Listener, []);
      await small.next(Listener);
      assert.equal(counts().direct - before.direct, 1, 'a small response goes direct');
      const client = h.client();
      client.subscribe(Cluster, []);
      const end = await client.ended(Cluster);
      assert.equal(end.code, status.RESOURCE_EXHAUSTED);
      assert.match(end.details, /larger than max/);
      assert.equal(counts().fallback - before.fallback, 1);
    } finally {
      await h.close();
    }
  });

  it('a grpc-js call other than the plain server call is not written directly', () => {
    // What the feature check requires of a call: grpc-js 1.14's base call under it, with its HTTP/2 stream.
    assert.equal(writesDirect({}), false);
    assert.equal(writesDirect({ call: { nextCall: {} } }), false);
    assert.equal(writesDirect({ call: { stream: {}, checkCancelled() {}, maybeSendMetadata() {} } }), false);
  });
});
