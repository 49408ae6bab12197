// The one place where errors become gRPC statuses, and where a status message gets its bound (rule L2): a message
// may quote what the client sent (a node id, a type URL, a name), and a grpc-message header field past 64 KiB is a
// COMPRESSION_ERROR to nghttp2's HPACK decoder (Node's, and so every Node gRPC client's), which kills the whole
// connection: every call on it hangs, not only the one that asked.
import type { status as GrpcStatus, StatusObject } from '@grpc/grpc-js';
import { Code, XdsError } from '@xds/api';
import { cutForDisplay } from './display-cut.js';

/**
 * Bytes of UTF-8 a status message keeps; longer text is cut with {@link cutForDisplay} (`… [cut: n bytes, kept
 * m]`). grpc-js percent-encodes the message, so the header field is at most three times this, far under 64 KiB.
 */
export const maxStatusDetailsBytes = 4 * 1024;

/** A status message as it goes on the wire: cut to {@link maxStatusDetailsBytes}. */
export function statusDetails(text: string): string {
  return cutForDisplay(text, maxStatusDetailsBytes);
}

/**
 * The gRPC status an error ends a call with: an XdsError keeps its code; anything else is Internal. The message is
 * cut to {@link maxStatusDetailsBytes}.
 */
export function toStatus(error: unknown): Pick<StatusObject, 'code' | 'details'> {
  const xds = XdsError.from(error, Code.Internal);
  // Code values are the gRPC wire numbers, shared with grpc-js's enum.
  return { code: xds.code as number as GrpcStatus, details: statusDetails(xds.message) };
}
