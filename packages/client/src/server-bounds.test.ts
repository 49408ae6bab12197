// Rule L2 from the client's side: a server controls the `version_info` and nonce of its responses, and the client
// keeps the version, presents it again on reconnect and (in a relay) forwards it to every downstream client, and
// sends the nonce back. Both are bounded (`limits.maxVersionBytes`, `limits.maxNonceBytes`): a long version is NACKed
// naming the limit and nothing of the response is applied; a long nonce ends the stream, which is retried.
// A real XdsServer for versions (it serves a given version as is); for nonces, which every real server makes
// itself, a real gRPC server on loopback that answers with a long nonce, as a broken or hostile origin would.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import {
  ClusterSchema,
  type DiscoveryRequest,
  DiscoveryRequestSchema,
  DiscoveryResponseSchema,
  discoveryMethods,
  TypeUrl,
} from '@xds/api';
import { Snapshot, SnapshotCache } from '@xds/cache';
import { XdsClient } from './index.js';
import { cluster, nextEvent, serve } from './test-support.js';

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

for (const protocol of ['sotw', 'delta'] as const) {
  describe(`XdsClient bounds what a server sends (${protocol})`, () => {
    it('L2: NACKs a response whose version is past limits.maxVersionBytes, applies nothing of it and keeps its version', async () => {
      const cache = new SnapshotCache();
      cache.setSnapshot('n1', Snapshot.create([cluster('c1')], { version: 'v1' }));
      const { server, address } = await serve(cache);
      closers.push(() => server.close());
      const client = new XdsClient({
        servers: [address],
        node: 'n1',
        protocol,
        limits: { maxVersionBytes: 64 },
      });
      closers.push(() => client.close());
      const first = nextEvent(client, 'update', (e) => e.typeUrl === TypeUrl.Cluster);
      client.watch(TypeUrl.Cluster, '*', () => {});
      await first;
      const held = client.version(TypeUrl.Cluster);

      const nack = nextEvent(client, 'nack', (e) => e.typeUrl === TypeUrl.Cluster);
      cache.setSnapshot(
        'n1',
        Snapshot.create([cluster('c1'), cluster('c2')], { version: 'x'.repeat(100_000) }),
      );
      const event = await nack;
      assert.match(event.message, /version is 100000 bytes, over limits\.maxVersionBytes=64/);
      assert.ok(
        event.version.length < 200,
        `the reported version is cut (${event.version.length} characters)`,
      );
      assert.equal(client.version(TypeUrl.Cluster), held, 'the version stays the one last accepted');
      assert.deepEqual(
        [...client.resources(TypeUrl.Cluster).keys()],
        ['c1'],
        'nothing of the response applied',
      );
      await poll(
        'the server to record the NACK',
        () => server.clients()[0]?.types[TypeUrl.Cluster]?.status === 'NACKED',
      );

      // The server's next content (rule S6: not the rejected one again) with a sane version is taken.
      const fixed = nextEvent(client, 'update', (e) => e.typeUrl === TypeUrl.Cluster);
      cache.setSnapshot('n1', Snapshot.create([cluster('c1'), cluster('c3')], { version: 'v3' }));
      assert.equal((await fixed).version, 'v3');
      assert.equal(client.version(TypeUrl.Cluster), 'v3');
      assert.deepEqual([...client.resources(TypeUrl.Cluster).keys()].sort(), ['c1', 'c3']);
    });
  });
}

describe('XdsClient bounds what a server sends (nonce)', () => {
  it('L2: a response whose nonce is past limits.maxNonceBytes ends the stream, named in disconnected, and is retried', async () => {
    const streams: DiscoveryRequest[] = [];
    const address = await nonceServer('n'.repeat(5000), streams);
    const client = new XdsClient({
      servers: [address],
      node: 'n1',
      backoff: { initialMs: 5, maxMs: 20 },
      limits: { maxNonceBytes: 256 },
    });
    closers.push(() => client.close());
    const acks: string[] = [];
    client.on('ack', (e) => acks.push(e.nonce));
    const ended = nextEvent(client, 'disconnected');
    client.watch(TypeUrl.Cluster, '*', () => {});
    const event = await ended;
    assert.match(
      event.details,
      /a nonce of 5000 bytes, over limits\.maxNonceBytes=256; the stream was ended/,
    );
    await nextEvent(client, 'reconnecting');
    await poll('a second stream', () => streams.length >= 2);
    assert.deepEqual(acks, [], 'never answered');
    assert.deepEqual([...client.resources(TypeUrl.Cluster).keys()], [], 'nothing applied');
  });
});

describe('XdsClient bounds what a server makes it log', () => {
  it('L2: responses of a type never subscribed, with 100 KB type URLs, are logged cut and sparsely; the stream goes on', async () => {
    const streams: DiscoveryRequest[] = [];
    const junkType = `type.googleapis.com/${'x'.repeat(100_000)}`;
    const junk = Array.from({ length: 20 }, (_, i) =>
      create(DiscoveryResponseSchema, { typeUrl: junkType, versionInfo: `j${i}`, nonce: `j${i}` }),
    );
    const address = await nonceServer('n1', streams, junk);
    const lines: string[] = [];
    const record = (object: object, message?: string) => lines.push(`${message} ${JSON.stringify(object)}`);
    const client = new XdsClient({
      servers: [address],
      node: 'n1',
      logger: { debug: () => {}, info: record, warn: record },
    });
    closers.push(() => client.close());
    const acked = nextEvent(client, 'ack', (e) => e.typeUrl === TypeUrl.Cluster);
    client.watch(TypeUrl.Cluster, '*', () => {});
    await acked;
    const unsubscribed = lines.filter((l) => l.includes('never subscribed'));
    // 20 responses: logged at the 1st, 2nd, 4th, 8th and 16th.
    assert.equal(unsubscribed.length, 5, unsubscribed.join('\n').slice(0, 2000));
    assert.match(unsubscribed[4]!, /"responses":16/);
    const bytes = lines.reduce((sum, l) => sum + l.length, 0);
    assert.ok(bytes < 5_000, `the server's 2 MB of type URLs made ${bytes} bytes of log`);
    assert.match(unsubscribed[0]!, /\[cut: 100020 bytes, kept 256\]/);
    assert.deepEqual([...client.resources(TypeUrl.Cluster).keys()], ['c1'], 'the stream went on');
  });
});

/** Polls `check` every 10 ms until it holds, failing after 20 s. */
async function poll(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A gRPC server on 127.0.0.1 whose SotW ADS answers each stream's first request with the responses `before`, then
 * cluster c1 and `nonce`; `streams` gets each stream's first request.
 */
async function nonceServer(
  nonce: string,
  streams: DiscoveryRequest[],
  before: Parameters<typeof toBinary<typeof DiscoveryResponseSchema>>[1][] = [],
): Promise<string> {
  const method = discoveryMethods.find((m) => m.kind === 'sotw' && m.typeUrl === undefined)!;
  const server = new grpc.Server();
  server.addService(
    {
      ads: {
        path: method.path,
        requestStream: true,
        responseStream: true,
        requestDeserialize: (bytes: Buffer) => fromBinary(DiscoveryRequestSchema, bytes),
        requestSerialize: (r: DiscoveryRequest) => Buffer.from(toBinary(DiscoveryRequestSchema, r)),
        responseSerialize: (r: Parameters<typeof toBinary<typeof DiscoveryResponseSchema>>[1]) =>
          Buffer.from(toBinary(DiscoveryResponseSchema, r)),
        responseDeserialize: (bytes: Buffer) => fromBinary(DiscoveryResponseSchema, bytes),
      },
    },
    {
      ads: (call: grpc.ServerDuplexStream<DiscoveryRequest, unknown>) => {
        let first = true;
        call.on('data', (request: DiscoveryRequest) => {
          if (!first) return;
          first = false;
          streams.push(request);
          for (const response of before) call.write(response);
          call.write(
            create(DiscoveryResponseSchema, {
              typeUrl: TypeUrl.Cluster,
              versionInfo: 'v1',
              nonce,
              resources: [anyPack(ClusterSchema, create(ClusterSchema, { name: 'c1' }))],
            }),
          );
        });
        call.on('error', () => {});
        call.on('end', () => call.end());
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error === null ? resolve(bound) : reject(error),
    ),
  );
  closers.push(() => new Promise<void>((resolve) => server.tryShutdown(() => resolve())));
  return `127.0.0.1:${port}`;
}
