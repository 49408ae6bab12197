/**
 * What an {@link XdsClient} is given: where to connect, who it is, which protocol to speak, how to retry, how to
 * judge a resource, and the bounds on what a server can make it keep (the client-side mirror of rule L2).
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import type * as grpc from '@grpc/grpc-js';
import { Code, type NodeSchema, XdsError } from '@xds/api';
import type { XdsResource } from './resource.js';

/** A partial `envoy.config.core.v3.Node`, as protobuf-es accepts it. */
export type NodeInit = MessageInitShape<typeof NodeSchema>;

/** Which xDS variant the client speaks on its ADS stream. */
export type Protocol = 'sotw' | 'delta';

/**
 * Judges one decoded resource before it is accepted: return null (or undefined) to accept it, or an error (or its
 * message) to reject the whole response with a NACK whose `error_detail.message` carries it.
 */
export type Validate = (typeUrl: string, resource: XdsResource) => Error | string | null | undefined;

/** A pino-compatible logger. */
export interface ClientLogger {
  debug(object: object, message?: string): void;
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
}

/** Exponential backoff with jitter between connection attempts. */
export interface BackoffOptions {
  /** The first delay (ms); default 500. */
  readonly initialMs?: number;
  /** The largest delay (ms); default 30,000. */
  readonly maxMs?: number;
  /** Each failed attempt multiplies the delay by this; default 2. */
  readonly multiplier?: number;
  /** The part of each delay that is random, 0 to 1; default 0.5 (a delay is between 50% and 100% of its step). */
  readonly jitter?: number;
  /** The random source, in [0, 1); default `Math.random` (tests give a fixed one). */
  readonly random?: () => number;
}

/** Bounds on what a server can make the client keep or spend. */
export interface ClientLimits {
  /** The largest response accepted, in bytes; default 16 MiB (grpc-js ends the stream with RESOURCE_EXHAUSTED). */
  readonly maxMessageBytes?: number;
  /** Resources held per type; default 100,000. A response that would go past it is NACKed, naming the limit. */
  readonly maxResourcesPerType?: number;
  /**
   * Names one delta response removes, `removed_resources` and `removed_resource_names` together; default 100,000.
   * Counted from the wire before any is decoded: a response past it is NACKed naming the limit and nothing of it is
   * applied (a legitimate server removes at most what the client holds or subscribes to).
   */
  readonly maxRemovedPerResponse?: number;
  /** Bytes of one resource name; default 16 KiB. A longer name makes the response NACKed. */
  readonly maxNameBytes?: number;
  /** Bytes of a NACK message sent and reported; default 4 KiB (cut, and says so). */
  readonly maxErrorDetailBytes?: number;
  /**
   * Bytes of a response's `version_info` (SotW) or `system_version_info` (delta), and of a delta resource's
   * `version`; default 1 KiB. A response past it is NACKed naming the limit and nothing of it is applied, so the
   * client never keeps, presents again or (in a relay) forwards a version a server made as large as it liked.
   */
  readonly maxVersionBytes?: number;
  /**
   * Bytes of a response's nonce; default 1 KiB. A response past it cannot be answered without sending the nonce
   * back: the stream ends (the `disconnected` event names the limit) and the client reconnects after its backoff.
   */
  readonly maxNonceBytes?: number;
  /**
   * Bytes of one resource as encoded (the `value` of its `Any`); default 4 MiB, grpc-js's own default for a whole
   * message, some 4,000 clusters' worth. A larger resource is rejected before it is decoded, the response NACKed
   * naming the type, the resource, its size and this limit; the version held of that name (if any) is kept and the
   * response's other resources are applied, as for any rejected resource.
   */
  readonly maxResourceBytes?: number;
  /**
   * Bytes of the resources held of one type, the sum of their encoded sizes; default 32 MiB (a mesh of 10,000
   * clusters of about 1 KB holds 10 MB of them). A response that would take the type past it is NACKed naming the
   * type, the size it would make and this limit, and nothing of it is applied: what was accepted before stays.
   * The decoded messages cost memory besides, about twice their encoded size for typical resources.
   */
  readonly maxResourceBytesPerType?: number;
  /**
   * Bytes of the resources held across every type, the sum of their encoded sizes; default 128 MiB (four types at
   * `maxResourceBytesPerType`: clusters, endpoints, listeners and routes of a large mesh). A response that would take
   * the client past it is NACKed as for `maxResourceBytesPerType`, naming this limit.
   */
  readonly maxResourceBytesTotal?: number;
  /**
   * Bytes of requests written to the stream and not yet taken by the connection; default 4 MiB. Past it (or when
   * grpc-js asks to wait for `drain`) the client writes nothing more and keeps only what each type owes the server
   * (the latest ACK or NACK, the net subscription change, or the latest SotW request), written as one request per
   * kind when the stream drains: a server that stops reading does not make the client queue every change.
   */
  readonly maxQueuedRequestBytes?: number;
  /**
   * How long (ms) requests may wait for a stream that does not drain; default 60,000. Past it the stream is ended
   * (the `disconnected` event names this limit) and the client reconnects and presents what it holds.
   */
  readonly drainTimeoutMs?: number;
}

/** The name of one client limit, as a NACK names it (`limits.<name>`). */
export type ClientLimitName = keyof ClientLimits;

/** {@link ClientLimits} with every default filled in. */
export type ResolvedClientLimits = { readonly [K in keyof ClientLimits]-?: number };

/** The defaults of {@link ClientLimits}. */
export const defaultClientLimits: ResolvedClientLimits = Object.freeze({
  maxMessageBytes: 16 * 1024 * 1024,
  maxResourcesPerType: 100_000,
  maxRemovedPerResponse: 100_000,
  maxNameBytes: 16 * 1024,
  maxErrorDetailBytes: 4 * 1024,
  maxVersionBytes: 1024,
  maxNonceBytes: 1024,
  maxResourceBytes: 4 * 1024 * 1024,
  maxResourceBytesPerType: 32 * 1024 * 1024,
  maxResourceBytesTotal: 128 * 1024 * 1024,
  maxQueuedRequestBytes: 4 * 1024 * 1024,
  drainTimeoutMs: 60_000,
});

/** Options of {@link XdsClient}. */
export interface XdsClientOptions {
  /** The servers, `host:port`; the client uses the first and moves to the next when a stream fails. */
  readonly servers: readonly string[];
  /** The node: a string is the node id; an object is a partial `envoy.config.core.v3.Node`. */
  readonly node: string | NodeInit;
  /** State of the world (`'sotw'`, the default) or incremental (`'delta'`) ADS. */
  readonly protocol?: Protocol;
  /** Channel credentials (TLS: `credentials.createSsl(...)`); insecure by default. */
  readonly credentials?: grpc.ChannelCredentials;
  /** Extra grpc-js channel options. */
  readonly channelOptions?: grpc.ChannelOptions;
  /** The validation hook; by default every resource that decodes is accepted. */
  readonly validate?: Validate;
  /** Backoff between connection attempts. */
  readonly backoff?: BackoffOptions;
  /** Bounds on what a server controls. */
  readonly limits?: ClientLimits;
  /** Aborting it closes the client, as {@link XdsClient.close} does. */
  readonly signal?: AbortSignal;
  /** A pino-compatible logger; silent by default. */
  readonly logger?: ClientLogger;
}

/** The longest timer Node runs (ms): 2^31 - 1. */
const maxTimerMs = 2_147_483_647;

/**
 * Fills in the limit defaults; throws an XdsError (InvalidArgument) naming `field.NAME` and the value for a name that
 * is not a client limit or a value that is not a positive integer. `field` is where the caller took them from
 * (`limits` for `XdsClient`; a relay says `upstreamLimits`).
 */
export function resolveClientLimits(
  limits: ClientLimits | undefined,
  field = 'limits',
): ResolvedClientLimits {
  const resolved: Record<string, number> = { ...defaultClientLimits };
  for (const [key, value] of Object.entries(limits ?? {})) {
    if (!Object.hasOwn(defaultClientLimits, key))
      throw new XdsError(
        Code.InvalidArgument,
        `${field}.${key} is not a client limit; the limits are ${Object.keys(defaultClientLimits).join(', ')}`,
      );
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0)
      throw new XdsError(
        Code.InvalidArgument,
        `${field}.${key} must be a positive integer, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`,
      );
    if (key === 'drainTimeoutMs' && value > maxTimerMs)
      throw new XdsError(
        Code.InvalidArgument,
        `${field}.${key} must be at most ${maxTimerMs} (the longest timer Node runs), got ${value}`,
      );
    resolved[key] = value;
  }
  return Object.freeze(resolved) as ResolvedClientLimits;
}

/**
 * Cuts text to `maxBytes` of UTF-8 (never inside a character) and says so. Only the part kept is encoded: the cost
 * does not grow with the text (a server's or a hook's message may be as long as V8 allows).
 */
export function cutText(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes) return text;
  const total = Buffer.byteLength(text, 'utf8');
  if (total <= maxBytes) return text;
  // Every UTF-16 unit is at least one byte of UTF-8: the first maxBytes units hold the bytes kept.
  const bytes = Buffer.from(text.slice(0, maxBytes), 'utf8');
  let end = Math.min(maxBytes, bytes.length);
  if (end < bytes.length) while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return `${bytes.subarray(0, end).toString('utf8')} [cut: ${total} bytes, kept ${end}]`;
}
