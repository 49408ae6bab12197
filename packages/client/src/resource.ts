/**
 * One resource as the client holds it: the decoded message for the application and validation, and the encoded
 * bytes exactly as the server sent them, so that a relay forwards them without encoding again (rule X2).
 */
import { type DescMessage, fromBinary, type Message } from '@bufbuild/protobuf';
import { resourceName, resourceType, typeNameOf, xdsRegistry } from '@xds/api';
import { contentHash } from '@xds/cache';
import { shownName } from './error-list.js';
import type { ClientLimitName } from './options.js';
import type { ResourceLimits } from './protocol.js';

/** A resource the client received and accepted. */
export interface XdsResource {
  /** The type URL. */
  readonly typeUrl: string;
  /** The resource name (rule R1). */
  readonly name: string;
  /**
   * The resource version: the server's per-resource version in delta; in SotW, which has none, the content hash
   * of `bytes` (the same hash `@xds/cache` gives, so both agree across tiers: rules D4, S14, X1).
   */
  readonly version: string;
  /** The decoded message. */
  readonly message: Message;
  /** The resource's protobuf encoding as received (the `value` of its `Any`), copied out of the response. */
  readonly bytes: Uint8Array;
}

/**
 * A resource decoded, or the reason it could not be: then `name` is its name when it could still be read (a resource
 * refused for its size), `about` the name the error shows after the reason (shortened, see `error-list.ts`), and
 * `limit` the client limit it passed, if that was the reason.
 */
export type Decoded =
  | { readonly ok: true; readonly resource: XdsResource }
  | {
      readonly ok: false;
      readonly error: string;
      readonly name?: string;
      readonly about?: string;
      readonly limit?: ClientLimitName;
    };

/** The message schema of a type URL, from the xDS registry; undefined for a type the client cannot decode. */
export function schemaOf(typeUrl: string): DescMessage | undefined {
  return xdsRegistry.getMessage(typeNameOf(typeUrl));
}

/**
 * Decodes the `Any` of one resource of `typeUrl`. `givenName` and `givenVersion` are the delta `Resource` wrapper's;
 * SotW passes none (the version is then the content hash of the bytes).
 */
export function decodeResource(
  typeUrl: string,
  anyTypeUrl: string,
  value: Uint8Array,
  given: { readonly name?: string; readonly version?: string },
  limits: ResourceLimits,
): Decoded {
  const { maxNameBytes, maxVersionBytes, maxResourceBytes } = limits;
  if (anyTypeUrl !== typeUrl)
    // The server chooses the Any's type URL and its length: it is shown shortened, after the reason.
    return {
      ok: false,
      error: `a resource of another type in a response of type ${typeUrl}: ${shownName(anyTypeUrl)}`,
    };
  const schema = schemaOf(typeUrl);
  if (schema === undefined) return { ok: false, error: `cannot decode resources of type ${typeUrl}` };
  // Refused before it is copied or decoded (rule L2): its name, when it can be read, keeps what is held of it.
  if (value.length > maxResourceBytes) {
    const name = nameWithoutDecoding(typeUrl, value, given.name);
    return {
      ok: false,
      error: `${typeUrl}: a resource is ${value.length} bytes, over limits.maxResourceBytes=${maxResourceBytes}`,
      limit: 'maxResourceBytes',
      ...(name === undefined ? {} : { name, about: name }),
    };
  }
  const bytes = value.slice();
  let message: Message;
  try {
    message = fromBinary(schema, bytes);
  } catch (e) {
    return {
      ok: false,
      error: `cannot decode ${typeNameOf(typeUrl)}: ${e instanceof Error ? e.message : String(e)}`,
      ...(given.name === undefined || given.name === '' ? {} : { about: given.name }),
    };
  }
  const name = resourceType(typeUrl) === undefined ? (given.name ?? '') : resourceName(message);
  if (name === '') return { ok: false, error: `a ${typeNameOf(typeUrl)} without a name` };
  if (given.name !== undefined && given.name !== '' && given.name !== name)
    return {
      ok: false,
      error: `the ${typeNameOf(typeUrl)} inside is named ${shownName(name)}`,
      about: given.name,
    };
  if (Buffer.byteLength(name, 'utf8') > maxNameBytes)
    return {
      ok: false,
      error: `a resource name of ${Buffer.byteLength(name, 'utf8')} bytes is over limits.maxNameBytes=${maxNameBytes}`,
      limit: 'maxNameBytes',
    };
  if (given.version !== undefined && given.version.length > maxVersionBytes / 3) {
    const versionBytes = Buffer.byteLength(given.version, 'utf8');
    if (versionBytes > maxVersionBytes)
      return {
        ok: false,
        error: `a version of ${versionBytes} bytes, over limits.maxVersionBytes=${maxVersionBytes}`,
        about: name,
        limit: 'maxVersionBytes',
      };
  }
  const version = given.version !== undefined && given.version !== '' ? given.version : contentHash(bytes);
  return { ok: true, resource: Object.freeze({ typeUrl, name, version, message, bytes }) };
}

/**
 * The name of an encoded resource read without decoding it: the delta wrapper's, else the one its type reads from
 * bytes (rule R1); undefined when neither tells.
 */
export function nameWithoutDecoding(
  typeUrl: string,
  value: Uint8Array,
  given: string | undefined,
): string | undefined {
  if (given !== undefined && given !== '') return given;
  try {
    const name = resourceType(typeUrl)?.nameOfBytes?.(value);
    return name === '' ? undefined : name;
  } catch {
    return undefined;
  }
}
