/**
 * The bounds on a response as a whole (rule L2 from the client's side): what a server chooses and the client would
 * keep, send back or log is checked against the client's limits before anything of the response is applied. A nonce
 * past `maxNonceBytes` cannot be answered without sending it back, so it ends the stream. The others NACK the
 * response naming the type, the size and the limit, and nothing of it is applied, so the state accepted before
 * stays and memory does not grow: a `version_info` past `maxVersionBytes`, and a response that would make the type
 * hold more than `maxResourcesPerType` resources or `maxResourceBytesPerType` bytes, or the client more than
 * `maxResourceBytesTotal` bytes across types. (One resource past `maxResourceBytes` is refused alone, as it is read:
 * see `resource.ts`.)
 */
import { type ClientLimitName, cutText, type ResolvedClientLimits } from './options.js';
import type { ReadResponse } from './protocol.js';
import type { XdsResource } from './resource.js';
import type { TypeState } from './type-state.js';

/** What the whole-response bounds found. */
export interface ResponseBounds {
  /** One message a limit passed, naming it; empty when the response is within every bound. */
  readonly errors: readonly string[];
  /** The limits passed. */
  readonly limits: readonly ClientLimitName[];
  /** The response's version as events and logs may show it: cut to `maxVersionBytes` when longer. */
  readonly shownVersion: string;
}

/** The UTF-8 bytes of `text`, counted only when it could be over `max` (UTF-8 takes at most 3 per UTF-16 unit). */
function byteLength(text: string, max: number): number {
  return text.length * 3 <= max ? text.length : Buffer.byteLength(text, 'utf8');
}

/**
 * Why a response of `typeUrl` cannot be answered because of its nonce (`limits.maxNonceBytes`), or undefined when
 * it can.
 */
export function nonceRefusal(
  typeUrl: string,
  nonce: string,
  limits: ResolvedClientLimits,
): string | undefined {
  const bytes = byteLength(nonce, limits.maxNonceBytes);
  if (bytes <= limits.maxNonceBytes) return undefined;
  return (
    `the server sent a ${typeUrl} response with a nonce of ${bytes} bytes, over ` +
    `limits.maxNonceBytes=${limits.maxNonceBytes}; the stream was ended`
  );
}

/**
 * Checks a response against the whole-response bounds: its version, and what the type (and the client, with
 * `heldElsewhere` bytes held of other types) would hold after applying `accepted` and `removed`.
 */
export function checkResponse(
  type: TypeState,
  read: ReadResponse,
  accepted: readonly XdsResource[],
  removed: readonly string[],
  heldElsewhere: number,
  limits: ResolvedClientLimits,
): ResponseBounds {
  const errors: string[] = [];
  const passed: ClientLimitName[] = [];
  const fail = (limit: ClientLimitName, message: string) => {
    errors.push(`${message}, over limits.${limit}=${limits[limit]}`);
    passed.push(limit);
  };
  const versionBytes = byteLength(read.version, limits.maxVersionBytes);
  const longVersion = versionBytes > limits.maxVersionBytes;
  if (longVersion) fail('maxVersionBytes', `the response's version is ${versionBytes} bytes`);
  const { count, bytes } = type.project(accepted, removed);
  if (count > limits.maxResourcesPerType)
    fail('maxResourcesPerType', `the response would make ${count} resources`);
  if (bytes > limits.maxResourceBytesPerType)
    fail(
      'maxResourceBytesPerType',
      `the response would make ${type.typeUrl} hold ${bytes} bytes of resources`,
    );
  const total = heldElsewhere + bytes;
  if (total > limits.maxResourceBytesTotal)
    fail(
      'maxResourceBytesTotal',
      `the response would make the client hold ${total} bytes of resources across types (${type.typeUrl}: ${bytes})`,
    );
  const shownVersion = longVersion ? cutText(read.version, limits.maxVersionBytes) : read.version;
  return { errors, limits: passed, shownVersion };
}
