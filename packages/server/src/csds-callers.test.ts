// Rule L2 for CSDS per caller: one caller (its peer address; its certificate's identity under mutual TLS) has at
// most `limits.maxStatusCallsPerCaller` calls in flight, from arrival (being authorized, waiting for a turn or being
// built) to answer; one more is refused with RESOURCE_EXHAUSTED naming the limit and the caller, and other callers
// are answered meanwhile. Without it one caller could keep the server-wide queue (100 calls) full, so that every
// operator's call waited behind its calls or was refused. On loopback, 127.0.0.2 and 127.0.0.3 are distinct callers.
import assert from 'node:assert/strict';
import { type ClientHttp2Session, connect } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { describe, it } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import {
  ClientStatusDiscoveryService,
  ClientStatusRequestSchema,
  type ClientStatusResponse,
  ClientStatusResponseSchema,
  methodPath,
} from '@xds/api';
import { openGrpcStream } from '@xds/testing';
import { peerAddressOf } from './csds-gate.js';
import { defaultLimits } from './limits.js';
import { recordingLogger } from './test-connections.js';
import { csdsClient } from './test-csds-client.js';
import { type Harness, start } from './test-harness.js';
import { grpcFrame, until } from './test-raw-client.js';

const wait = 60_000;
const fetchPath = methodPath(ClientStatusDiscoveryService.methods.find((m) => m.methodKind === 'unary')!);

/** How a raw FetchClientStatus call ended. */
interface Fetched {
  readonly grpcStatus: number | undefined;
  readonly grpcMessage: string;
  readonly answer: ClientStatusResponse | undefined;
}

/** An HTTP/2 connection to the server from a chosen loopback address (grpc-js's client cannot bind one). */
function sessionFrom(h: Harness, localAddress: string): ClientHttp2Session {
  const port = Number(h.address.split(':')[1]);
  const session = connect(`http://${h.address}`, {
    createConnection: () => netConnect({ host: '127.0.0.1', port, localAddress }),
  });
  session.on('error', () => {});
  return session;
}

/** FetchClientStatus for every node on `session`: resolves with the call's status and answer. */
function rawFetch(session: ClientHttp2Session): Promise<Fetched> {
  const stream = openGrpcStream(session, fetchPath);
  stream.end(grpcFrame(toBinary(ClientStatusRequestSchema, create(ClientStatusRequestSchema, {}))));
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve) => {
    let grpcStatus: number | undefined;
    let grpcMessage = '';
    const onHeaders = (headers: Record<string, unknown>) => {
      if (headers['grpc-status'] !== undefined) grpcStatus = Number(headers['grpc-status']);
      if (typeof headers['grpc-message'] === 'string')
        grpcMessage = decodeURIComponent(headers['grpc-message']);
    };
    stream.on('response', onHeaders);
    stream.on('trailers', onHeaders);
    stream.on('close', () => {
      const body = Buffer.concat(chunks);
      const answer =
        grpcStatus === status.OK && body.length >= 5
          ? fromBinary(ClientStatusResponseSchema, body.subarray(5, 5 + body.readUInt32BE(1)))
          : undefined;
      resolve({ grpcStatus, grpcMessage, answer });
    });
  });
}

describe('L2: CSDS calls have a share per caller', () => {
  it('L2: the default is 4 calls in flight per caller; a caller is its peer address, as connection limits key it', () => {
    assert.equal(defaultLimits.maxStatusCallsPerCaller, 4);
    assert.equal(peerAddressOf('127.0.0.2:5000'), '127.0.0.2');
    assert.equal(peerAddressOf('::ffff:127.0.0.3:80'), '127.0.0.3');
    // An IPv6 peer is its /64, as connection-gate.ts counts it.
    assert.equal(peerAddressOf('[2001:DB8::1]:443'), '2001:db8:0:0::/64');
    assert.equal(peerAddressOf('2001:db8::2:443'), '2001:db8:0:0::/64');
    assert.equal(peerAddressOf('unknown'), 'unknown');
  });

  it('L2: one caller’s calls past limits.maxStatusCallsPerCaller end RESOURCE_EXHAUSTED naming the limit and the caller while its others are held; other callers are answered meanwhile, and its share comes back', async () => {
    // The hostile caller's calls stay in authorization until the test lets them go: its share stays taken.
    let letGo!: () => void;
    const held = new Promise<boolean>((resolve) => {
      letGo = () => resolve(true);
    });
    let asked = 0;
    const logger = recordingLogger();
    const h = await start({
      logger,
      limits: { maxStatusCallsPerCaller: 3, hookTimeoutMs: 600_000 },
      authorizeStatus: (_request, call) => {
        if (!call.getPeer().startsWith('127.0.0.2:')) return true;
        asked++;
        return asked <= 3 ? held : true;
      },
    });
    const hostile = sessionFrom(h, '127.0.0.2');
    const other = sessionFrom(h, '127.0.0.3');
    const operator = csdsClient(h.address, wait);
    try {
      const ends: Fetched[] = [];
      const calls = Array.from({ length: 5 }, () => rawFetch(hostile));
      for (const call of calls) void call.then((end) => ends.push(end));
      await until(() => ends.length === 2, 'two of the caller’s five calls refused', wait);
      for (const end of ends) {
        assert.equal(end.grpcStatus, status.RESOURCE_EXHAUSTED);
        assert.match(
          end.grpcMessage,
          /^peer 127\.0\.0\.2 has 3 CSDS calls in flight, limits\.maxStatusCallsPerCaller \(3\)/,
        );
      }
      assert.equal(asked, 3, 'only the three calls within its share were authorized');
      assert.equal(h.server.streamStats().endedByLimit.maxStatusCallsPerCaller, 2);
      // A caller looping refused calls does not flood the log: one line per limit per 10 s.
      const lines = logger.warnings.filter((w) => /maxStatusCallsPerCaller/.test(JSON.stringify(w.object)));
      assert.equal(lines.length, 1);
      assert.equal(lines[0]?.message, 'CSDS request refused');

      // Another peer and the operator (127.0.0.1) are answered while the caller's share is taken.
      const fromOther = await rawFetch(other);
      assert.equal(fromOther.grpcStatus, status.OK, fromOther.grpcMessage);
      assert.deepEqual(fromOther.answer?.config, []);
      assert.deepEqual((await operator.fetch({})).config, []);

      // Once its calls are answered, the caller has its share again.
      letGo();
      for (const end of await Promise.all(calls)) assert.ok(end.grpcStatus !== undefined);
      assert.equal(ends.filter((end) => end.grpcStatus === status.OK).length, 3);
      const again = await rawFetch(hostile);
      assert.equal(again.grpcStatus, status.OK, again.grpcMessage);
      assert.equal(h.server.streamStats().endedByLimit.maxStatusCallsPerCaller, 2);
    } finally {
      letGo();
      hostile.destroy();
      other.destroy();
      operator.close();
      await h.close();
    }
  });
});
