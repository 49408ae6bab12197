// The one place where errors become gRPC statuses.
import type { status as GrpcStatus, StatusObject } from '@grpc/grpc-js';
import { Code, XdsError } from '@xds/api';

/** The gRPC status an error ends a call with: an XdsError keeps its code; anything else is Internal. */
export function toStatus(error: unknown): Pick<StatusObject, 'code' | 'details'> {
  const xds = XdsError.from(error, Code.Internal);
  // Code values are the gRPC wire numbers, shared with grpc-js's enum.
  return { code: xds.code as number as GrpcStatus, details: xds.message };
}
