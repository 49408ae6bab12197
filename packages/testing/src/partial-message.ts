/**
 * A raw ADS stream whose first request message is announced and never finished, for tests of the server-wide budget
 * for request messages partly received (rule L2: `limits.maxPartialRequestBytesTotal` and
 * `limits.maxPartialRequestBytesPerConnection`). gRPC clients always finish the messages they start, so this is
 * written on a plain HTTP/2 session, as an attacker would.
 */
import type { ClientHttp2Session, ClientHttp2Stream } from 'node:http2';

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
 * (1,000 by default), then nothing more; resolves with the grpc-status the server ends it with (in headers or
 * trailers). A message the budget holds never ends: its promise resolves only when the server or the test ends it.
 */
export function holdPartialMessage(
  session: ClientHttp2Session,
  announcedBytes: number,
  sentBytes = 1000,
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
