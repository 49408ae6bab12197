// Compressed request messages are refused before they are inflated (rule L2; probe finding Q12). Every byte bound
// on requests (maxRequestBytes, the partial-request budget) counts the bytes that arrive, and grpc-js inflates a
// message flagged compressed (`grpc-encoding: gzip` or `deflate`) up to maxReceiveMessageLength (16 MiB): 15 KB of
// gzip became 15 MiB on the heap, and 90 such requests on one connection took a server from 150 MiB to 1.7 GiB.
// xDS clients (Envoy, gRPC's xDS clients, go-control-plane's and this repo's) do not compress requests: a
// discovery request is small and sent over a long-lived stream. So a message with its compressed flag set ends
// the call with UNIMPLEMENTED naming the encoding, as the gRPC spec asks of a server that does not take an
// encoding, before any inflating. Uncompressed messages pass whatever `grpc-encoding` the call announced.
import { status } from '@grpc/grpc-js';

/** The part of grpc-js 1.14's base server call (`BaseServerInterceptingCall`) this needs. */
interface DecompressingCall {
  decompressMessage(message: Buffer, encoding: string): Promise<Buffer>;
}

function looksLikeDecompressingCall(value: unknown): value is DecompressingCall {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<DecompressingCall>).decompressMessage === 'function'
  );
}

/** Why a compressed request message is refused (the status details). */
export function compressedRequestRefusal(encoding: string): string {
  return `compressed request messages (grpc-encoding ${JSON.stringify(encoding.slice(0, 64))}) are not accepted by this xDS server: send them uncompressed (their size is bounded by limits.maxRequestBytes as sent, and an inflated one would not be)`;
}

/**
 * Makes a grpc-js 1.14 base server call refuse request messages flagged compressed, before inflating them. Returns
 * false, changing nothing, for a call of another shape.
 */
export function refuseCompressedRequests(base: unknown): boolean {
  if (!looksLikeDecompressingCall(base)) return false;
  const inner = base.decompressMessage;
  base.decompressMessage = function decompressMessage(
    this: DecompressingCall,
    message: Buffer,
    encoding: string,
  ) {
    if (encoding === 'identity') return inner.call(this, message, encoding);
    return Promise.reject({ code: status.UNIMPLEMENTED, details: compressedRequestRefusal(encoding) });
  };
  return true;
}
