import type { TypeUrl } from '@xds/api';

/** The kind of stream: state of the world or incremental, on ADS or a per-type service. */
export type StreamKind = 'sotw' | 'delta';

/** A stream opened (after its first request was accepted). */
export interface StreamOpenEvent {
  readonly streamId: number;
  readonly nodeId: string;
  readonly kind: StreamKind;
  /** True on ADS; false on a per-type service. */
  readonly ads: boolean;
  /** The gRPC method path. */
  readonly method: string;
  /** The peer address, as grpc-js reports it. */
  readonly peer: string;
}

/** A stream ended. */
export interface StreamCloseEvent {
  readonly streamId: number;
  /** Empty when the stream ended before its node was known. */
  readonly nodeId: string;
  /** The gRPC status code the stream ended with (0 when the client went away or closed cleanly). */
  readonly code: number;
  /** Why: the status details, `client closed`, `client cancelled`, `server closing`. */
  readonly reason: string;
}

/** A request arrived on a stream (every request, stale ones included). */
export interface RequestEvent {
  readonly streamId: number;
  readonly nodeId: string;
  readonly typeUrl: TypeUrl;
  /** SotW `version_info`; empty for delta. */
  readonly versionInfo: string;
  readonly responseNonce: string;
  /** SotW `resource_names`, or delta `resource_names_subscribe`. */
  readonly names: readonly string[];
  /** Delta `resource_names_unsubscribe`; empty for SotW. */
  readonly unsubscribe: readonly string[];
  /** True when the request answers an older nonce than the latest (rule S4). */
  readonly stale: boolean;
  /** True for the first request of the type on the stream. */
  readonly initial: boolean;
}

/** A response was written. */
export interface ResponseEvent {
  readonly streamId: number;
  readonly nodeId: string;
  readonly typeUrl: TypeUrl;
  /** `version_info` (SotW) or `system_version_info` (delta). */
  readonly version: string;
  readonly nonce: string;
  /** The resource names in the response. */
  readonly resources: readonly string[];
  /** Delta `removed_resources`. */
  readonly removed: readonly string[];
  /** The encoded size. */
  readonly bytes: number;
}

/** A client accepted the latest response of a type (rule S5). */
export interface AckEvent {
  readonly nodeId: string;
  readonly streamId: number;
  readonly typeUrl: TypeUrl;
  /** The version accepted. */
  readonly version: string;
  /** The nonce answered. */
  readonly nonce: string;
}

/** A client rejected the latest response of a type (rule S5). */
export interface NackEvent extends AckEvent {
  /** `error_detail.message`, cut to `limits.maxErrorDetailBytes` (the cut says so; rule L2). */
  readonly message: string;
  /** The version the client still holds (the request's `version_info`). */
  readonly acceptedVersion: string;
}

/** The events of {@link XdsServer}. */
export interface XdsServerEvents {
  streamOpen: [StreamOpenEvent];
  streamClose: [StreamCloseEvent];
  request: [RequestEvent];
  response: [ResponseEvent];
  ack: [AckEvent];
  nack: [NackEvent];
}
