// Rule L2: request messages partly received are bounded across the server (`limits.maxPartialRequestBytesTotal`)
// and per connection (`limits.maxPartialRequestBytesPerConnection`): an unfinished message reserves what it received
// plus a look-ahead, up to its announced length, until its last byte or its call ends by any path; one that does not
// fit ends its call with RESOURCE_EXHAUSTED naming the limit, and small messages keep a share big ones cannot take.
import assert from 'node:assert/strict';
import { constants } from 'node:http2';
import { describe, it } from 'node:test';
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import { discoveryMethods, TypeUrl } from '@xds/api';
import { SnapshotCache } from '@xds/cache';
import { resolveLimits } from './limits.js';
import { PartialRequestBudget } from './partial-request-budget.js';
import { coalesceBytes, limitDecoder, reservationFor } from './partial-requests.js';
import type { ServerCall } from './stream-context.js';
import { type Harness, start } from './test-harness.js';
import {
  grpcFrame,
  methodPathOf,
  RawConnection,
  type RawStream,
  sotwRequest,
  until,
} from './test-raw-client.js';
import { XdsServer } from './xds-server.js';

const { Cluster } = TypeUrl;
const mib = 1024 * 1024;
const wait = 60_000;

/** The 5-byte gRPC header of a message of `length` bytes. */
function header(length: number): Buffer {
  const out = Buffer.alloc(5);
  out.writeUInt32BE(length, 1);
  return out;
}

/**
 * A message announcing `length` bytes, of which `sent` go out (by default all but one, so that it reserves its whole
 * length: a message reserves what it received plus a look-ahead): it stays unfinished.
 */
function unfinished(stream: RawStream, length: number, sent = length - 1): void {
  stream.write(Buffer.concat([header(length), Buffer.alloc(sent, 0x0a)]));
}

/** A valid SotW request of node n1 for Cluster c1 and enough long names to make it about `bytes` long. */
function requestOf(bytes: number): Buffer {
  const names = [
    'c1',
    ...Array.from({ length: Math.ceil(bytes / 1003) }, (_, i) => `${i}-${'x'.repeat(994)}`),
  ];
  return sotwRequest({ node: { id: 'n1' }, typeUrl: Cluster, resourceNames: names });
}

function portOf(h: Harness): number {
  return Number(h.address.split(':')[1]);
}

function reservedOf(h: Harness): number {
  return h.server.partialRequestStats().reservedBytes;
}

async function reserved(h: Harness, bytes: number, what: string): Promise<void> {
  await until(
    () => reservedOf(h) === bytes,
    `${what} (${bytes} bytes reserved, have ${reservedOf(h)})`,
    wait,
  );
}

const small = { maxPartialRequestBytesTotal: 4 * mib, maxPartialRequestBytesPerConnection: 4 * mib };

describe('partly received requests (L2)', () => {
  it('L2: a message that would pass limits.maxPartialRequestBytesTotal ends its stream with RESOURCE_EXHAUSTED naming the limit; the one that fits is held, then served and given back', async () => {
    const h = await start({ limits: small });
    const a = new RawConnection(portOf(h));
    const b = new RawConnection(portOf(h));
    try {
      const frame = requestOf(2 * mib);
      const first = a.open();
      first.write(frame.subarray(0, frame.length - 100));
      await reserved(h, frame.length - 5, 'the first message’s announced length');
      // Messages over 64 KiB may hold three quarters of 4 MiB: a second one of 2 MiB does not fit.
      const second = b.open();
      unfinished(second, 2 * mib);
      const end = await second.end(wait);
      assert.equal(end.grpcStatus, status.RESOURCE_EXHAUSTED);
      assert.match(end.grpcMessage ?? '', /limits\.maxPartialRequestBytesTotal \(4194304 bytes\)/);
      assert.equal(h.server.streamStats().endedByLimit.maxPartialRequestBytesTotal, 1);
      assert.equal(h.server.partialRequestStats().refused.maxPartialRequestBytesTotal, 1);
      assert.equal(reservedOf(h), frame.length - 5, 'the refused message reserved nothing');
      first.write(frame.subarray(frame.length - 100));
      await until(() => first.responses.length === 1, 'the first request’s response', wait);
      assert.equal(first.responses[0]!.typeUrl, Cluster);
      await reserved(h, 0, 'the completed message given back');
      assert.equal(h.server.partialRequestStats().messages, 0);
    } finally {
      a.close();
      b.close();
      await h.close();
    }
  });

  it('L2: a connection past limits.maxPartialRequestBytesPerConnection is refused naming it; another connection is not', async () => {
    const h = await start({ limits: { ...small, maxPartialRequestBytesPerConnection: 2 * mib } });
    const a = new RawConnection(portOf(h));
    const b = new RawConnection(portOf(h));
    try {
      unfinished(a.open(), 1.5 * mib);
      await reserved(h, 1.5 * mib, 'the first message');
      const over = a.open();
      unfinished(over, mib);
      const end = await over.end(wait);
      assert.equal(end.grpcStatus, status.RESOURCE_EXHAUSTED);
      assert.match(end.grpcMessage ?? '', /limits\.maxPartialRequestBytesPerConnection \(2097152 bytes\)/);
      unfinished(b.open(), mib);
      await reserved(h, 2.5 * mib, 'the other connection’s message');
    } finally {
      a.close();
      b.close();
      await h.close();
    }
  });

  it('L2: the reservation is given back however the stream ends: client cancel, RST_STREAM, connection destroyed, socket reset, server close', async () => {
    const h = await start({ limits: small });
    const connections: RawConnection[] = [];
    const connect = () => {
      const c = new RawConnection(portOf(h));
      connections.push(c);
      return c;
    };
    try {
      const paths: Array<[string, (c: RawConnection, s: RawStream) => void]> = [
        ['client cancel', (_c, s) => s.cancel()],
        ['RST_STREAM PROTOCOL_ERROR', (_c, s) => void s.stream.close(constants.NGHTTP2_PROTOCOL_ERROR)],
        ['connection destroyed', (c) => c.close()],
        [
          'socket reset',
          (c) => (c.session.socket as unknown as { resetAndDestroy(): void }).resetAndDestroy(),
        ],
      ];
      for (const [what, endIt] of paths) {
        const c = connect();
        const s = c.open();
        unfinished(s, 3 * mib);
        await reserved(h, 3 * mib, `${what}: the message`);
        endIt(c, s);
        await reserved(h, 0, `${what}: given back`);
      }
      // Nothing leaked: the whole share of big messages can be taken again.
      unfinished(connect().open(), 3 * mib);
      await reserved(h, 3 * mib, 'a message after all of them');
      await h.server.close();
      await reserved(h, 0, 'given back when the server closed');
      assert.deepEqual(
        { ...h.server.partialRequestStats(), peakBytes: 0 },
        {
          limitBytes: 4 * mib,
          perConnectionLimitBytes: 4 * mib,
          perPeerLimitBytes: 64 * mib,
          timeoutMs: 30_000,
          reservedBytes: 0,
          messages: 0,
          connections: 0,
          peers: 0,
          peakBytes: 0,
          refused: {
            maxPartialRequestBytesTotal: 0,
            maxPartialRequestBytesPerConnection: 0,
            maxPartialRequestBytesPerPeer: 0,
            partialRequestTimeoutMs: 0,
          },
        },
      );
      assert.equal(h.server.partialRequestStats().peakBytes, 3 * mib);
    } finally {
      for (const c of connections) c.close();
      await h.close();
    }
  });

  it('L2: the reservation is given back when the server ends the stream with a status while the client keeps sending', async () => {
    const h = await start({ limits: { ...small, firstRequestTimeoutMs: 500 } });
    const connection = new RawConnection(portOf(h));
    try {
      // A bare HTTP/2 stream: nothing closes it when the server's status arrives.
      const stream = connection.session.request({
        ':method': 'POST',
        ':path': methodPathOf('sotw'),
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      stream.on('error', () => {});
      let grpcStatus: number | undefined;
      stream.on('response', (headers) => {
        if (headers['grpc-status'] !== undefined) grpcStatus = Number(headers['grpc-status']);
      });
      stream.on('trailers', (headers) => {
        grpcStatus = Number(headers['grpc-status']);
      });
      stream.write(Buffer.concat([header(3 * mib), Buffer.alloc(3 * mib - 1)]));
      await reserved(h, 3 * mib, 'the first message');
      // Its first request never completes: the server ends it (DEADLINE_EXCEEDED) with the client's half open.
      await until(() => grpcStatus !== undefined, 'the first-request timeout', wait);
      assert.equal(grpcStatus, status.DEADLINE_EXCEEDED);
      stream.write(Buffer.alloc(64 * 1024));
      await reserved(h, 0, 'given back');
      assert.equal(stream.closed && stream.rstCode !== 0, false, 'the client did not reset the stream');
    } finally {
      connection.close();
      await h.close();
    }
  });

  it('L2: discovery streams on an application’s own grpc-js server (addTo) reserve too', async () => {
    const cache = new SnapshotCache();
    const xds = new XdsServer({ cache, limits: small });
    const app = new Server();
    xds.addTo(app);
    const port = await new Promise<number>((resolve, reject) =>
      app.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    const connection = new RawConnection(port);
    try {
      unfinished(connection.open(methodPathOf('sotw')), 2 * mib);
      await until(() => xds.partialRequestStats().reservedBytes === 2 * mib, 'the message reserved', wait);
      const over = connection.open(methodPathOf('delta'));
      unfinished(over, 2 * mib);
      const end = await over.end(wait);
      assert.equal(end.grpcStatus, status.RESOURCE_EXHAUSTED);
      assert.match(end.grpcMessage ?? '', /limits\.maxPartialRequestBytesTotal/);
    } finally {
      connection.close();
      await xds.close();
      app.forceShutdown();
    }
  });

  it('L2: big unfinished messages cannot take the share kept for small ones: a small request split across writes is admitted and served', async () => {
    const h = await start({ limits: { ...small, maxPartialRequestBytesPerConnection: 2 * mib } });
    const hostile = [
      new RawConnection(portOf(h)),
      new RawConnection(portOf(h)),
      new RawConnection(portOf(h)),
    ];
    const legit = new RawConnection(portOf(h));
    try {
      unfinished(hostile[0]!.open(), 1.5 * mib);
      unfinished(hostile[1]!.open(), 1.5 * mib);
      await reserved(h, 3 * mib, 'three quarters of the budget held by big messages');
      const refused = hostile[2]!.open();
      unfinished(refused, 128 * 1024);
      const end = await refused.end(wait);
      assert.equal(end.grpcStatus, status.RESOURCE_EXHAUSTED);
      assert.match(end.grpcMessage ?? '', /messages over 65536 bytes may hold 3145728/);
      // A 40 KiB request in two writes: it is unfinished between them, and fits the small share.
      const frame = requestOf(40 * 1024);
      assert.ok(frame.length <= 64 * 1024);
      const stream = legit.open();
      stream.write(frame.subarray(0, 20_000));
      await reserved(h, 3 * mib + frame.length - 5, 'the small request');
      stream.write(frame.subarray(20_000));
      await until(() => stream.responses.length === 1, 'the small request’s response', wait);
      // A real client is served too.
      const client = h.client({ timeoutMs: wait });
      client.subscribe(Cluster, ['c1']);
      assert.equal((await client.next(Cluster)).resources.length, 1);
    } finally {
      for (const c of [...hostile, legit]) c.close();
      await h.close();
    }
  });

  it('L2: unary Fetch calls reserve too (their handler runs only once the request is whole)', async () => {
    const h = await start({ limits: small });
    const connection = new RawConnection(portOf(h));
    const fetchPath = discoveryMethods.find((m) => m.kind === 'fetch' && m.typeUrl === Cluster)!.path;
    try {
      unfinished(connection.open(fetchPath), 2 * mib);
      await reserved(h, 2 * mib, 'the Fetch request');
      const over = connection.open(fetchPath);
      unfinished(over, 2 * mib);
      const end = await over.end(wait);
      assert.equal(end.grpcStatus, status.RESOURCE_EXHAUSTED);
      assert.match(end.grpcMessage ?? '', /limits\.maxPartialRequestBytesTotal/);
    } finally {
      connection.close();
      await h.close();
    }
  });

  it('L2: a message sent one byte per DATA frame pins neither an object nor a read buffer per byte: its pieces are gathered', async () => {
    const calls: ServerCall[] = [];
    const h = await start({ hooks: { onStreamOpen: (c) => void (c.call && calls.push(c.call)) } });
    const connection = new RawConnection(portOf(h));
    try {
      const stream = connection.open(methodPathOf('sotw'));
      const frame = requestOf(2000);
      stream.write(frame.subarray(0, 5));
      // Each byte in its own DATA frame and its own socket read: the ping's answer comes after the byte arrived.
      for (let i = 5; i < 405; i++) {
        stream.write(frame.subarray(i, i + 1));
        await connection.ping();
      }
      await until(() => calls.length === 1, 'the stream’s call');
      const decoder = (
        calls[0] as unknown as {
          call: { decoder: { readPartialMessage: Buffer[]; readCompressFlag: Buffer } };
        }
      ).call.decoder;
      await until(
        () => decoder.readPartialMessage.reduce((n, p) => n + p.length, 0) === 400,
        'the 400 bytes',
      );
      const buffers = new Set([decoder.readCompressFlag, ...decoder.readPartialMessage].map((p) => p.buffer));
      const pinned = [...buffers].reduce((n, b) => n + b.byteLength, 0);
      assert.ok(decoder.readPartialMessage.length <= 2, `${decoder.readPartialMessage.length} pieces`);
      assert.ok(pinned <= coalesceBytes + 1, `the unfinished message pins ${pinned} bytes`);
      stream.write(frame.subarray(405));
      await until(() => stream.responses.length === 1, 'the response', wait);
    } finally {
      connection.close();
      await h.close();
    }
  });

  it('keeps every message’s bytes, however the writes cut them, and reserves exactly while a message is unfinished', async () => {
    const calls: ServerCall[] = [];
    const h = await start({ hooks: { onStreamOpen: (c) => void (c.call && calls.push(c.call)) } });
    const connection = new RawConnection(portOf(h));
    type Decoder = {
      readState: number;
      readMessageSize: number;
      readMessageRemaining: number;
      write(data: Buffer): Buffer[];
    };
    let Decoder: new (max: number) => Decoder;
    try {
      const stream = connection.open(methodPathOf('sotw'));
      stream.send({ node: { id: 'n1' }, typeUrl: Cluster, resourceNames: ['c1'] });
      await until(() => stream.responses.length === 1, 'the response', wait);
      Decoder = (calls[0] as unknown as { call: { decoder: object } }).call.decoder.constructor as new (
        max: number,
      ) => Decoder;
    } finally {
      connection.close();
      await h.close();
    }
    let x = 77;
    const next = () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) / 2 ** 32;
    };
    const bodies = Array.from({ length: 30 }, (_, i) =>
      Buffer.from(
        Array.from({ length: i % 5 === 0 ? 0 : Math.floor(next() * 70_000) }, () => (next() * 256) | 0),
      ),
    );
    const bytes = Buffer.concat(bodies.map((body) => grpcFrame(body)));
    for (let round = 0; round < 30; round++) {
      const budget = new PartialRequestBudget(resolveLimits(undefined));
      const theirs = new Decoder(-1);
      const ours = new Decoder(-1);
      const account = limitDecoder(ours, budget, { connection: {}, peer: undefined });
      assert.ok(account !== undefined, 'the decoder is taken');
      const got: Buffer[] = [];
      const want: Buffer[] = [];
      let at = 0;
      while (at < bytes.length) {
        const size = 1 + Math.floor(next() * (next() < 0.5 ? 64 : 40_000));
        // Each chunk a view into a larger read buffer, as Node's HTTP/2 gives them.
        const read = Buffer.alloc(size + 1000);
        bytes.copy(read, 500, at, at + size);
        const chunk = read.subarray(500, 500 + Math.min(size, bytes.length - at));
        at += size;
        want.push(...theirs.write(Buffer.from(chunk)));
        got.push(...ours.write(chunk));
        assert.equal(ours.readState, theirs.readState);
        if (ours.readState === 2) {
          // What was received plus a look-ahead: at least 16 KiB ahead, at most reservationFor (rule L2, probe5 P3).
          const received = ours.readMessageSize - ours.readMessageRemaining;
          const least = Math.min(ours.readMessageSize, received + coalesceBytes);
          assert.ok(account.reserved >= least, `${account.reserved} reserved, ${least} at least`);
          assert.ok(account.reserved <= reservationFor(received, ours.readMessageSize));
        } else assert.equal(account.reserved, 0);
        assert.equal(budget.stats().reservedBytes, account.reserved);
      }
      assert.deepEqual(got, want, `round ${round}: the same messages`);
      assert.equal(got.length, bodies.length);
      assert.equal(budget.stats().reservedBytes, 0);
    }
  });
});
