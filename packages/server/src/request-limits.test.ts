// Rule L2 over gRPC: what a client sends is bounded by `limits`, not by the client.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { DiscoveryRequestSchema, discoveryMethods, TypeUrl } from '@xds/api';
import { Snapshot } from '@xds/cache';
import { assignment, type Harness, nextEvent, start } from './test-harness.js';
import { grpcFrame, RawConnection, until } from './test-raw-client.js';

const { Cluster, Endpoint } = TypeUrl;
const fetchEndpoints = discoveryMethods.find((m) => m.typeUrl === Endpoint && m.kind === 'fetch')!.path;
const mib = 1024 * 1024;

describe('request limits', () => {
  let h: Harness;
  before(async () => {
    h = await start();
  });
  after(async () => {
    await h.close();
  });

  for (const protocol of ['sotw', 'delta'] as const) {
    it(`L2: a ${protocol} NACK of 1 MiB is kept cut to maxErrorDetailBytes, in clients() and the nack event`, async () => {
      const node = `nack-${protocol}`;
      h.cache.setSnapshot(node, h.cache.getSnapshot('n1')!);
      const huge = `${'é'.repeat(10)}${'x'.repeat(mib - 20)}`;
      const nacked = nextEvent(h.server, 'nack', (e) => e.nodeId === node);
      const client = h.client({ node, protocol, nack: () => huge });
      client.subscribe(Cluster, []);
      const event = await nacked;
      const limit = 4 * 1024;
      assert.ok(event.message.startsWith('é'.repeat(10)));
      assert.ok(event.message.endsWith(`… [cut: ${mib} bytes, kept ${limit}]`), event.message.slice(-60));
      assert.ok(Buffer.byteLength(event.message) < limit + 64, `${Buffer.byteLength(event.message)} bytes`);
      const info = h.server.clients().find((c) => c.nodeId === node);
      assert.equal(info?.types[Cluster]?.nack?.message, event.message);
    });
  }

  it('L2: a SotW version_info of 1 MiB that is not the version sent is kept cut to 256 bytes (ack, nack, clients())', async () => {
    const node = 'long-version';
    h.cache.setSnapshot(node, h.cache.getSnapshot('n1')!);
    const connection = new RawConnection(Number(h.address.split(':')[1]));
    try {
      const stream = connection.open();
      stream.send({ node: { id: node }, typeUrl: Cluster });
      await until(() => stream.responses.length === 1, 'the first Cluster response');
      const first = stream.responses[0]!;
      const huge = `${'é'.repeat(10)}${'v'.repeat(mib - 20)}`;
      const acked = nextEvent(h.server, 'ack', (e) => e.nodeId === node);
      stream.send({ typeUrl: Cluster, versionInfo: huge, responseNonce: first.nonce });
      const ack = await acked;
      const cut = `… [cut: ${mib} bytes, kept 256]`;
      assert.ok(ack.version.startsWith('é'.repeat(10)) && ack.version.endsWith(cut), ack.version.slice(-60));
      const info = h.server.clients().find((c) => c.nodeId === node);
      assert.equal(info?.types[Cluster]?.ackedVersion, ack.version, 'clients() keeps the cut version');
      // The version the server sent is kept as it is, however long the client's was before.
      h.cache.setSnapshot(node, Snapshot.create([assignment('long-version-change', 9100)]));
      await until(() => stream.responses.length === 2, 'the pushed response');
      const second = stream.responses[1]!;
      const nacked = nextEvent(h.server, 'nack', (e) => e.nodeId === node);
      stream.send({
        typeUrl: Cluster,
        versionInfo: huge,
        responseNonce: second.nonce,
        errorDetail: { message: 'no' },
      });
      const nack = await nacked;
      assert.ok(nack.acceptedVersion.endsWith(cut), 'the nack event carries the cut version');
      assert.equal(nack.version, second.versionInfo);
    } finally {
      connection.close();
    }
  });
});

describe('names at the door', () => {
  let h: Harness;
  const limits = { maxNamesPerRequest: 20, maxGlobsPerRequest: 3, maxNameBytes: 64 };
  before(async () => {
    const snapshot = Snapshot.create(['A', 'B', 'C', 'D', 'E'].map((name, i) => assignment(name, 9000 + i)));
    h = await start({ limits }, {}, snapshot);
    h.cache.setSnapshot('victim', snapshot);
    h.cache.setSnapshot('mallory', snapshot);
  });
  after(async () => {
    await h.close();
  });

  /** A Fetch of endpoints with these names: its status and message, and how many responses came. */
  async function fetch(names: string[]) {
    const connection = new RawConnection(Number(h.address.split(':')[1]));
    try {
      const stream = connection.open(fetchEndpoints);
      const request = create(DiscoveryRequestSchema, { node: { id: 'n1' }, resourceNames: names });
      stream.write(grpcFrame(toBinary(DiscoveryRequestSchema, request)));
      stream.stream.end();
      const end = await stream.ended;
      return { code: end.grpcStatus, details: end.grpcMessage ?? '', responses: stream.responses.length };
    } finally {
      connection.close();
    }
  }

  it('L5: a node subscribing to ["A\\nB", "C", "D", "E"] does not change another node\'s ["A", "B", "C", "D", "E"]', async () => {
    const mallory = h.client({ node: 'mallory' });
    mallory.subscribe(Endpoint, ['A\nB', 'C', 'D', 'E']);
    const served = await mallory.next(Endpoint).then(
      () => true,
      () => false,
    );
    const victim = h.client({ node: 'victim' });
    victim.subscribe(Endpoint, ['A', 'B', 'C', 'D', 'E']);
    assert.deepEqual([...(await victim.next(Endpoint)).names].sort(), ['A', 'B', 'C', 'D', 'E']);
    // The name is refused at the door.
    assert.equal(served, false);
    const refused = await mallory.ended(Endpoint);
    assert.equal(refused.code, status.INVALID_ARGUMENT);
    assert.match(refused.details, /resource_names\[0\] holds the control character U\+000A/);
  });

  for (const protocol of ['sotw', 'delta'] as const) {
    const field = protocol === 'sotw' ? 'resource_names' : 'resource_names_subscribe';
    it(`L5: ${protocol}: a name with a C0 control or DEL is INVALID_ARGUMENT naming its index`, async () => {
      for (const [names, index, code] of [
        [['A', 'B\u0000'], 1, 'U+0000'],
        [['x\u007f'], 0, 'U+007F'],
        // Eight names and more: SotW leaves them encoded, and checks them from their bytes.
        [[...'ABCDEFGHI'].map((n, i) => (i === 7 ? `${n}\t` : n)), 7, 'U+0009'],
      ] as const) {
        const client = h.client({ protocol });
        client.subscribe(Endpoint, names);
        const end = await client.ended(Endpoint);
        assert.equal(end.code, status.INVALID_ARGUMENT, JSON.stringify(names));
        const expected = `${field}[${index}] holds the control character ${code}`;
        assert.ok(end.details.includes(expected), end.details);
      }
    });

    it(`L2: ${protocol}: a name longer than maxNameBytes is INVALID_ARGUMENT naming the limit`, async () => {
      const client = h.client({ protocol });
      client.subscribe(Endpoint, ['A', 'é'.repeat(33)]);
      const end = await client.ended(Endpoint);
      assert.equal(end.code, status.INVALID_ARGUMENT);
      assert.match(
        end.details,
        new RegExp(`${field}\\[1\\] is 66 bytes, longer than limits.maxNameBytes \\(64\\)`),
      );
    });

    it(`L2: ${protocol}: more names or globs than the limits is RESOURCE_EXHAUSTED naming the limit`, async () => {
      const many = h.client({ protocol });
      many.subscribe(
        Endpoint,
        Array.from({ length: 21 }, (_, i) => `n${i}`),
      );
      const tooMany = await many.ended(Endpoint);
      assert.equal(tooMany.code, status.RESOURCE_EXHAUSTED);
      assert.match(tooMany.details, /has 21 names, more than limits\.maxNamesPerRequest \(20\)/);
      const globs = h.client({ protocol });
      globs.subscribe(Endpoint, ['a/*', 'b/*', 'c/*', 'd/*']);
      const tooManyGlobs = await globs.ended(Endpoint);
      assert.equal(tooManyGlobs.code, status.RESOURCE_EXHAUSTED);
      assert.match(
        tooManyGlobs.details,
        /has 4 glob names \(prefix\/\*\), more than limits\.maxGlobsPerRequest \(3\)/,
      );
      // At the limits, the stream is served.
      const full = h.client({ protocol });
      full.subscribe(Endpoint, ['A', 'a/*', 'b/*', 'c/*', ...Array.from({ length: 16 }, (_, i) => `n${i}`)]);
      assert.deepEqual([...(await full.next(Endpoint)).names], ['A']);
    });
  }

  it('L2: a delta subscription may not grow past the limits request by request', async () => {
    const client = h.client({ protocol: 'delta' });
    client.subscribe(Endpoint, ['A', 'a/*', 'b/*']);
    await client.next(Endpoint);
    // Requests are handled in order: the third finds the first two applied (a glob that matches nothing is
    // not answered).
    client.subscribe(Endpoint, ['c/*', 'a/*']);
    client.subscribe(Endpoint, ['d/*']);
    const end = await client.ended(Endpoint);
    assert.equal(end.code, status.RESOURCE_EXHAUSTED);
    assert.match(
      end.details,
      /the delta subscription of type.googleapis.com\/envoy.config.endpoint.v3.ClusterLoadAssignment has 4 glob names/,
    );
  });

  it('L2, L5: Fetch holds names to the same limits', async () => {
    const control = await fetch(['A', 'B\n']);
    assert.equal(control.code, status.INVALID_ARGUMENT);
    assert.match(control.details, /resource_names\[1\] holds the control character U\+000A/);
    const many = await fetch(Array.from({ length: 21 }, (_, i) => `n${i}`));
    assert.equal(many.code, status.RESOURCE_EXHAUSTED);
    assert.match(many.details, /limits\.maxNamesPerRequest \(20\)/);
    const globs = await fetch(['a/*', 'b/*', 'c/*', 'd/*']);
    assert.equal(globs.code, status.RESOURCE_EXHAUSTED);
    assert.match(globs.details, /limits\.maxGlobsPerRequest \(3\)/);
    const fine = await fetch(['A', 'B']);
    assert.equal(fine.code, status.OK);
    assert.equal(fine.responses, 1);
  });
});
