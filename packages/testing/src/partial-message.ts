/**
 * A raw ADS stream whose first request message is announced and never finished, for tests of the server-wide budget
 * for request messages partly received (rule L2: `limits.maxPartialRequestBytesTotal` and
 * `limits.maxPartialRequestBytesPerConnection`). gRPC clients always finish the messages they start, so this is
 * written on a plain HTTP/2 session, as an attacker would. {@link assertPartialRequestBudget} is the test of that
 * budget that `xds-server` and `xds-relay` share, through their admin pages.
 */
import assert from 'node:assert/strict';
import { type ClientHttp2Session, type ClientHttp2Stream, connect } from 'node:http2';
import { setTimeout as delay } from 'node:timers/promises';

const MiB = 1024 * 1024;

/** The HTTP/2 path of ADS (SotW), the stream every xDS server and relay serves. */
export const adsPath = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';

/** Opens a raw gRPC request on `path` (ADS by default) of an HTTP/2 session; its errors are ignored. */
export function openGrpcStream(session: ClientHttp2Session, path = adsPath): ClientHttp2Stream {
  const stream = session.request({
    ':method': 'POST',
    ':path': path,
    'content-type': 'application/grpc',
    te: 'trailers',
  });
  stream.on('error', () => {});
  return stream;
}

/**
 * Opens an ADS stream on `session` whose first message announces `announcedBytes` and sends `sentBytes` of them
 * (all but one by default: a message reserves what it received plus a look-ahead, so this one reserves its whole
 * length), then nothing more; resolves with the grpc-status the server ends it with (in headers or trailers). A
 * message the budget holds ends only at `limits.partialRequestTimeoutMs`, or when the test ends it.
 */
export function holdPartialMessage(
  session: ClientHttp2Session,
  announcedBytes: number,
  sentBytes = announcedBytes - 1,
): Promise<number> {
  const stream = openGrpcStream(session);
  const header = Buffer.alloc(5);
  header.writeUInt32BE(announcedBytes, 1);
  stream.write(Buffer.concat([header, Buffer.alloc(sentBytes)]));
  return new Promise((resolve) => {
    const statusOf = (headers: Record<string, unknown>) => {
      if (headers['grpc-status'] !== undefined) resolve(Number(headers['grpc-status']));
    };
    stream.on('response', statusOf);
    stream.on('trailers', statusOf);
  });
}

/** What `/debug/syncz` says of request messages partly received (`server.partialRequests`). */
interface SynczPartialRequests {
  readonly server: {
    readonly partialRequests?: Record<string, unknown> & { readonly reservedBytes?: number };
  };
}

async function getPage(adminAddress: string, path: string): Promise<string> {
  const response = await fetch(`http://${adminAddress}${path}`);
  const body = await response.text();
  assert.equal(response.status, 200, `GET ${path}: ${body}`);
  return body;
}

/**
 * The rule L2 test that `xds-server` and `xds-relay` share, against a running command whose
 * `limits.maxPartialRequestBytesTotal` is `limitBytes` (`maxPartialRequestBytesPerConnection` and
 * `maxPartialRequestBytesPerPeer` left at their 32 and 64 MiB):
 * a message announcing half the budget is held (polled in `/debug/syncz` for up to `waitMs`), one more is refused with
 * RESOURCE_EXHAUSTED, and the bytes held, the budget and the refusal show in `/metrics`, `/debug/syncz` and the status
 * page (admin over plain HTTP on loopback).
 */
export async function assertPartialRequestBudget(
  xdsAddress: string,
  adminAddress: string,
  limitBytes: number,
  waitMs = 60_000,
): Promise<void> {
  const half = limitBytes / 2;
  const syncz = async () => JSON.parse(await getPage(adminAddress, '/debug/syncz')) as SynczPartialRequests;
  const session = connect(`http://${xdsAddress}`);
  session.on('error', () => {});
  try {
    void holdPartialMessage(session, half);
    // Held once the server has read its first frame: polled with a deadline.
    let held = await syncz();
    for (const deadline = Date.now() + waitMs; Date.now() < deadline; held = await syncz()) {
      if (held.server.partialRequests?.reservedBytes === half) break;
      await delay(50);
    }
    assert.equal(held.server.partialRequests?.reservedBytes, half, 'the first message held');
    assert.equal(await holdPartialMessage(session, half), 8, 'RESOURCE_EXHAUSTED');

    const metrics = await getPage(adminAddress, '/metrics');
    assert.match(metrics, new RegExp(`^xds_server_partial_request_bytes ${half}$`, 'm'));
    assert.match(metrics, new RegExp(`^xds_server_partial_request_budget_bytes ${limitBytes}$`, 'm'));
    assert.match(
      metrics,
      /^xds_server_streams_ended_by_limit_total\{limit="maxPartialRequestBytesTotal"\} 1$/m,
    );
    const partial = (await syncz()).server.partialRequests ?? {};
    // The refused message held part of its bytes before it could grow no more: the peak is between.
    const peak = partial['peakBytes'] as number;
    assert.ok(peak >= half && peak <= half * 1.5, `peak ${peak}`);
    assert.deepEqual(
      { ...partial, peakBytes: 0 },
      {
        limitBytes,
        perConnectionLimitBytes: 32 * MiB,
        perPeerLimitBytes: 64 * MiB,
        timeoutMs: 30_000,
        reservedBytes: half,
        messages: 1,
        connections: 1,
        peers: 1,
        peakBytes: 0,
        refused: {
          maxPartialRequestBytesTotal: 1,
          maxPartialRequestBytesPerConnection: 0,
          maxPartialRequestBytesPerPeer: 0,
          partialRequestTimeoutMs: 0,
        },
      },
    );
    const mib = (bytes: number) => (bytes / MiB).toFixed(1).replace('.', '\\.');
    assert.match(
      await getPage(adminAddress, '/'),
      new RegExp(
        `<span id="partial-requests">unfinished requests ${mib(half)} of ${mib(limitBytes)} MiB · 1 refused</span>`,
      ),
    );
  } finally {
    session.destroy();
  }
}
