/** The typed events of {@link XdsClient}: connection changes, accepted updates and NACKs. */
import type { ClientLimitName } from './options.js';

/** A stream to a server is up: its channel is connected and the subscriptions were sent. */
export interface ConnectedEvent {
  /** The server, `host:port`. */
  readonly address: string;
}

/** A stream ended; the client will retry after a backoff delay unless it is closed. */
export interface DisconnectedEvent {
  /** The server, `host:port`. */
  readonly address: string;
  /** The gRPC status code the stream ended with. */
  readonly code: number;
  /** The status details. */
  readonly details: string;
}

/** The client waits before its next connection attempt. */
export interface ReconnectingEvent {
  /** The server it will try next. */
  readonly address: string;
  /** The attempt number since the last healthy stream (0 for the first retry). */
  readonly attempt: number;
  /** The delay before the attempt (ms), after jitter. */
  readonly delayMs: number;
}

/** A response was accepted (ACKed) and changed what the client holds, or was the first of its type. */
export interface UpdateEvent {
  /** The type. */
  readonly typeUrl: string;
  /** The response's version. */
  readonly version: string;
  /** Names added or changed. */
  readonly updated: readonly string[];
  /** Names removed. */
  readonly removed: readonly string[];
  /** The server that sent it. */
  readonly address: string;
}

/** A response was accepted (ACKed), whether or not it changed anything. */
export interface AckSentEvent {
  /** The type. */
  readonly typeUrl: string;
  /** The version accepted. */
  readonly version: string;
  /** The nonce answered. */
  readonly nonce: string;
  /** How many resources the response carried. */
  readonly resources: number;
}

/**
 * A response was rejected (NACKed): its rejected resources were not applied, and nothing of it when it passed a
 * limit on the whole response (its version, or what it would make the client hold).
 */
export interface NackSentEvent {
  /** The type. */
  readonly typeUrl: string;
  /** The version the server offered. */
  readonly version: string;
  /** The nonce answered. */
  readonly nonce: string;
  /** The `error_detail.message` sent (cut to `limits.maxErrorDetailBytes`). */
  readonly message: string;
  /**
   * The client limits the response passed (`maxResourceBytesPerType`, `maxResourceBytes`, …), each named in the
   * message too; empty when it was rejected for other reasons (a resource that does not decode, the validation hook).
   */
  readonly limits: readonly ClientLimitName[];
}

/** The events of {@link XdsClient}. */
export interface XdsClientEvents {
  connected: [ConnectedEvent];
  disconnected: [DisconnectedEvent];
  reconnecting: [ReconnectingEvent];
  update: [UpdateEvent];
  ack: [AckSentEvent];
  nack: [NackSentEvent];
}
