// read-buffers.ts: an idle stream's grpc-js decoder keeps no view of the socket reads of its last request (bench
// scenario 4, memory per idle client), and decodes exactly the messages grpc-js's own decoder does, however the
// bytes are cut into writes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { releaseReadBuffers } from './read-buffers.js';
import type { ServerCall } from './stream-context.js';
import { nextEvent, start } from './test-harness.js';
import { grpcFrame, methodPathOf, RawConnection, until } from './test-raw-client.js';

const { Endpoint } = TypeUrl;
const names = Array.from({ length: 1000 }, (_, i) => `svc-${i}`);

interface Decoder {
  readState: number;
  readCompressFlag: Buffer;
  readPartialMessage: Buffer[];
  write(data: Buffer): Buffer[];
}

/** The grpc-js decoder under a server call (grpc-js 1.14: `call.call.decoder`). */
function decoderOf(call: ServerCall): Decoder {
  const decoder = (call as unknown as { call: { decoder: Decoder } }).call.decoder;
  assert.equal(typeof decoder?.write, 'function', 'the call has a grpc-js decoder');
  return decoder;
}

/** Every buffer the decoder holds between messages, with the size of the memory each keeps alive. */
function held(decoder: Decoder): number[] {
  return [decoder.readCompressFlag, ...decoder.readPartialMessage].map((b) => b.buffer.byteLength);
}

/** A small deterministic generator (xorshift), so that a failure repeats. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe('read buffers of idle streams', () => {
  it('after a request of 1,000 names, the stream keeps nothing of the socket reads that carried it', async () => {
    const calls: ServerCall[] = [];
    const h = await start({
      hooks: {
        onStreamOpen: (context) => {
          if (context.call !== undefined) calls.push(context.call);
        },
      },
    });
    const connection = new RawConnection(Number(h.address.split(':')[1]));
    try {
      const stream = connection.open(methodPathOf('sotw'));
      const request = nextEvent(h.server, 'request', (e) => e.typeUrl === Endpoint);
      stream.send({ node: { id: 'n1' }, typeUrl: Endpoint, resourceNames: names });
      await request;
      await until(() => stream.responses.length === 1, 'the response');
      assert.equal(calls.length, 1);
      const decoder = decoderOf(calls[0]!);
      assert.equal(decoder.readState, 0, 'between messages');
      for (const size of held(decoder))
        assert.ok(size <= 1, `the decoder holds a buffer of ${size} bytes between messages (a read buffer)`);
      // An ACK: the stream goes on decoding, and again keeps nothing.
      const ack = nextEvent(h.server, 'request', (e) => e.typeUrl === Endpoint && e.responseNonce !== '');
      stream.send({
        node: { id: 'n1' },
        typeUrl: Endpoint,
        resourceNames: names,
        versionInfo: stream.responses[0]!.versionInfo,
        responseNonce: stream.responses[0]!.nonce,
      });
      await ack;
      for (const size of held(decoder)) assert.ok(size <= 1, `after the ACK: a buffer of ${size} bytes`);
    } finally {
      connection.close();
      await h.close();
    }
  });

  it('decodes the same messages as grpc-js’s own decoder, whatever the writes, and keeps views only mid-message', async () => {
    // grpc-js's decoder class, taken from a real call.
    const calls: ServerCall[] = [];
    const h = await start({ hooks: { onStreamOpen: (c) => void (c.call && calls.push(c.call)) } });
    const connection = new RawConnection(Number(h.address.split(':')[1]));
    let Decoder: new (max: number) => Decoder;
    try {
      const stream = connection.open(methodPathOf('sotw'));
      stream.send({ node: { id: 'n1' }, typeUrl: Endpoint, resourceNames: ['c1'] });
      await until(() => stream.responses.length === 1, 'the response');
      Decoder = decoderOf(calls[0]!).constructor as new (max: number) => Decoder;
    } finally {
      connection.close();
      await h.close();
    }
    const next = random(15);
    const bodies = Array.from({ length: 40 }, (_, i) =>
      Buffer.from(
        Array.from({ length: i % 7 === 0 ? 0 : Math.floor(next() * 3000) }, () => (next() * 256) | 0),
      ),
    );
    const bytes = Buffer.concat(bodies.map((body) => grpcFrame(body)));
    for (let round = 0; round < 50; round++) {
      const theirs = new Decoder(-1);
      const ours = new Decoder(-1);
      assert.ok(releaseReadBuffers({ call: { decoder: ours } }), 'the decoder is taken');
      const got: Buffer[] = [];
      const want: Buffer[] = [];
      let at = 0;
      while (at < bytes.length) {
        const size = round === 0 ? 1 : 1 + Math.floor(next() * (next() < 0.5 ? 16 : 8000));
        const chunk = Buffer.from(bytes.subarray(at, at + size));
        at += size;
        want.push(...theirs.write(Buffer.from(chunk)));
        got.push(...ours.write(chunk));
        assert.equal(ours.readState, theirs.readState);
        if (ours.readState === 0)
          for (const s of held(ours)) assert.ok(s <= 1, `kept ${s} bytes between messages`);
      }
      assert.deepEqual(got, want, `round ${round}: the same messages`);
      assert.equal(got.length, bodies.length);
    }
  });

  it('leaves a call it does not know as it is', () => {
    assert.equal(releaseReadBuffers({}), false);
    assert.equal(releaseReadBuffers({ call: {} }), false);
    // A decoder whose write does not behave as grpc-js 1.14's (it never returns to between messages).
    class Other {
      readState = 0;
      readCompressFlag = Buffer.alloc(1);
      readPartialMessage: Buffer[] = [];
      write(_data: Buffer): Buffer[] {
        this.readState = 2;
        return [];
      }
    }
    const other = new Other();
    assert.equal(releaseReadBuffers({ call: { decoder: other } }), false);
    assert.equal(Object.hasOwn(other, 'write'), false, 'its write is untouched');
  });
});
