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

// The events below are emitted per response and per request: at a push to 10,000 streams, 10,000 of each. An
// object literal with getters costs V8 a runtime call per getter on every evaluation (about 6 µs per event against
// 0.2 µs for a class instance, measured on the bench machine), so the lazy fields live on a class's prototype.

/** What a 'response' event lists, computed only if a listener reads it. */
export interface ResponseNames {
  readonly resources: readonly string[];
  readonly removed: readonly string[];
}

/** A {@link ResponseEvent} whose names are listed on first read (1,000 names to 10,000 streams add up). */
export class LazyResponseEvent implements ResponseEvent {
  readonly streamId: number;
  readonly nodeId: string;
  readonly typeUrl: TypeUrl;
  readonly version: string;
  readonly nonce: string;
  readonly bytes: number;
  #names: (() => ResponseNames) | undefined;
  #listed: ResponseNames | undefined;

  constructor(
    streamId: number,
    nodeId: string,
    typeUrl: TypeUrl,
    version: string,
    nonce: string,
    bytes: number,
    names: () => ResponseNames,
  ) {
    this.streamId = streamId;
    this.nodeId = nodeId;
    this.typeUrl = typeUrl;
    this.version = version;
    this.nonce = nonce;
    this.bytes = bytes;
    this.#names = names;
  }

  #list(): ResponseNames {
    if (this.#listed === undefined) {
      this.#listed = this.#names!();
      this.#names = undefined;
    }
    return this.#listed;
  }

  get resources(): readonly string[] {
    return this.#list().resources;
  }

  get removed(): readonly string[] {
    return this.#list().removed;
  }

  /** The names as plain fields (so that `JSON.stringify` and spreading show them, as they did a literal's). */
  toJSON(): ResponseEvent {
    return {
      streamId: this.streamId,
      nodeId: this.nodeId,
      typeUrl: this.typeUrl,
      version: this.version,
      nonce: this.nonce,
      resources: this.resources,
      removed: this.removed,
      bytes: this.bytes,
    };
  }
}

/** What a {@link SotwRequestEvent} reads of its request. */
interface SotwRequestFields {
  readonly versionInfo: string;
  readonly responseNonce: string;
  readonly resourceNames: readonly string[];
}

const noUnsubscribe: readonly string[] = Object.freeze([]);

/** A SotW {@link RequestEvent}: the names are read from the request only if a listener reads them. */
export class SotwRequestEvent implements RequestEvent {
  readonly streamId: number;
  readonly nodeId: string;
  readonly typeUrl: TypeUrl;
  readonly versionInfo: string;
  readonly responseNonce: string;
  readonly stale: boolean;
  readonly initial: boolean;
  readonly #request: SotwRequestFields;

  constructor(
    streamId: number,
    nodeId: string,
    typeUrl: TypeUrl,
    request: SotwRequestFields,
    stale: boolean,
    initial: boolean,
  ) {
    this.streamId = streamId;
    this.nodeId = nodeId;
    this.typeUrl = typeUrl;
    this.versionInfo = request.versionInfo;
    this.responseNonce = request.responseNonce;
    this.stale = stale;
    this.initial = initial;
    this.#request = request;
  }

  /** `resource_names`, decoded only now (an Envoy repeats every name in every ACK). */
  get names(): readonly string[] {
    return this.#request.resourceNames;
  }

  /** Always empty for SotW. */
  get unsubscribe(): readonly string[] {
    return noUnsubscribe;
  }

  /** The fields as plain data (so that `JSON.stringify` shows the names, as it did a literal's). */
  toJSON(): RequestEvent {
    return {
      streamId: this.streamId,
      nodeId: this.nodeId,
      typeUrl: this.typeUrl,
      versionInfo: this.versionInfo,
      responseNonce: this.responseNonce,
      names: this.names,
      unsubscribe: this.unsubscribe,
      stale: this.stale,
      initial: this.initial,
    };
  }
}
