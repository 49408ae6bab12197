/**
 * The bounds on a response as a whole (rule L2 from the client's side): what a server chooses and the client would
 * keep, send back or log is checked against the client's limits before anything of the response is applied. A nonce
 * past `maxNonceBytes` cannot be answered without sending it back, so it ends the stream. The others NACK the
 * response naming the type, the size and the limit, and none of its resources is applied, so what was accepted
 * before stays and memory does not grow: a `version_info` past `maxVersionBytes`, and a response that would make
 * the type hold more than `maxResourcesPerType` resources or `maxResourceBytesPerType` bytes, or the client more
 * than `maxResourceBytesTotal` bytes across types. The version and the bytes are checked before the resources are
 * decoded ({@link checkHead}, counting every resource offered), so that a response past them costs no decoding;
 * the counts and the bytes again, exactly, on the resources accepted ({@link checkAccepted}). One resource past
 * `maxResourceBytes` is refused alone, as it is read (see `resource.ts`).
 */
import type { ClientLimitName, ResolvedClientLimits } from './options.js';
import type { ResponseHead } from './protocol.js';
import { nameWithoutDecoding, type XdsResource } from './resource.js';
import type { TypeState, Upsert } from './type-state.js';

/** What the whole-response bounds found. */
export interface ResponseBounds {
  /** One message a limit passed, naming it; empty when the response is within every bound. */
  readonly errors: readonly string[];
  /** The limits passed. */
  readonly limits: readonly ClientLimitName[];
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

/** Collects the limits passed and their messages. */
class Findings implements ResponseBounds {
  readonly errors: string[] = [];
  readonly limits: ClientLimitName[] = [];
  constructor(private readonly values: ResolvedClientLimits) {}

  add(limit: ClientLimitName, message: string): void {
    this.errors.push(`${message}, over limits.${limit}=${this.values[limit]}`);
    this.limits.push(limit);
  }

  /** Checks the bytes a type would hold (`bytes`) and the client with them (`elsewhere` held of other types). */
  bytes(typeUrl: string, bytes: number, elsewhere: number): this {
    if (bytes > this.values.maxResourceBytesPerType)
      this.add(
        'maxResourceBytesPerType',
        `the response would make ${typeUrl} hold ${bytes} bytes of resources`,
      );
    const total = elsewhere + bytes;
    if (total > this.values.maxResourceBytesTotal)
      this.add(
        'maxResourceBytesTotal',
        `the response would make the client hold ${total} bytes of resources across types (${typeUrl}: ${bytes})`,
      );
    return this;
  }
}

/**
 * Checks what a response says before its resources are decoded: its version, and the bytes the type and the client
 * would hold with every resource it offers (those past `maxResourceBytes`, refused alone, left out). `fullState`:
 * a SotW response of a type whose every response holds the whole set (what it does not name is removed).
 */
export function checkHead(
  type: TypeState,
  head: ResponseHead,
  fullState: boolean,
  heldElsewhere: number,
  limits: ResolvedClientLimits,
): ResponseBounds {
  const found = new Findings(limits);
  const versionBytes = byteLength(head.version, limits.maxVersionBytes);
  if (versionBytes > limits.maxVersionBytes)
    found.add('maxVersionBytes', `the response's version is ${versionBytes} bytes`);
  const offered = head.offered.filter((o) => o.value.length <= limits.maxResourceBytes);
  // What the type would hold if nothing it holds were replaced or removed: most responses stop here.
  let most = type.heldBytes;
  for (const o of offered) most += o.value.length;
  if (most <= limits.maxResourceBytesPerType && heldElsewhere + most <= limits.maxResourceBytesTotal)
    return found;
  const upserts: Upsert[] = offered.map((o) => ({
    name: nameWithoutDecoding(type.typeUrl, o.value, o.name),
    version: o.version,
    size: o.value.length,
  }));
  const removed = [...head.removed];
  if (fullState && upserts.every((u) => u.name !== undefined)) {
    const present = new Set(upserts.map((u) => u.name));
    for (const name of type.held.keys()) if (!present.has(name)) removed.push(name);
  }
  return found.bytes(type.typeUrl, type.project(upserts, removed).bytes, heldElsewhere);
}

/**
 * Checks what the type and the client would hold after applying the resources accepted and the names removed:
 * the count (`maxResourcesPerType`) and, exactly, the bytes.
 */
export function checkAccepted(
  type: TypeState,
  accepted: readonly XdsResource[],
  removed: readonly string[],
  heldElsewhere: number,
  limits: ResolvedClientLimits,
): ResponseBounds {
  const found = new Findings(limits);
  const upserts = accepted.map((r) => ({ name: r.name, version: r.version, size: r.bytes.length }));
  const { count, bytes } = type.project(upserts, removed);
  if (count > limits.maxResourcesPerType)
    found.add('maxResourcesPerType', `the response would make ${count} resources`);
  return found.bytes(type.typeUrl, bytes, heldElsewhere);
}
