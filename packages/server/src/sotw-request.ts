import { type DescMessage, fromBinary, ScalarType } from '@bufbuild/protobuf';
import type { DiscoveryRequest, DiscoveryRequestSchema } from '@xds/api';
import { requestDecoder, UndecodableRequest } from './codec.js';
import { type KnownRun, knownRunAt, sawRun } from './known-runs.js';
import { type KeptNames, keepNames, keptNames, type NamesSummary } from './lazy-names.js';
import type { ResolvedLimits } from './limits.js';
import { decodeNames, namesAreUtf8, readVarint, varintEnd } from './names-run.js';
import { keepWireNode } from './request-node.js';
import { requestLayout, takeWireNode, trimRequest } from './request-wire.js';

// SotW requests. An Envoy repeats every subscribed name in every ACK (1,000 names on a large mesh, at every push
// to every client). The decoder below leaves them encoded: it decodes the other fields of the request, decodes the
// names only when someone reads `resourceNames` (lazy-names.ts), and keeps their bytes so that the watch can tell
// an unchanged subscription by comparing bytes. An ACK is the request every client sends at every push: the
// decoder reads one in a pass over its fields and builds the message from them, without copying the bytes around
// the names into a buffer of their own or running protobuf-es's reader over them (issue 15); a request with few
// names (a wildcard ACK has none) is built the same way, its names decoded at once.
//
// Rule L1: this is a hand-written reader of client bytes, so it gives protobuf-es's answer on every input or
// declines and lets protobuf-es decode the whole request. It reads tags and lengths of any varint length up to
// protobuf-es's bounds and takes only requests made of one run of length-delimited `resource_names` fields and
// at most one of each of the other singular fields: strings are decoded as protobuf-es decodes them (strict
// UTF-8, a leading U+FEFF kept), `node` and `error_detail` by protobuf-es from their own bytes. It declines
// everything else (other wire types, groups, overlong or truncated varints, a field twice, `resource_locators`,
// unknown fields, bad UTF-8 anywhere). `wire-readers.test.ts` holds it to protobuf-es on random and damaged
// requests.

export type { NamesSummary } from './lazy-names.js';
export { controlCharacterIndex } from './names-run.js';

/** Requests with fewer names than this have them decoded at once (a wildcard ACK has none). */
const minLazyNames = 8;

/** The encoded `resource_names` fields of a request decoded by {@link sotwRequestDecoder}, if it kept them. */
export function resourceNamesBytes(request: object): Buffer | undefined {
  return keptNames(request)?.bytes;
}

/**
 * The encoded `resource_names` of a request when they are exactly a run of names seen in earlier requests: the same
 * buffer (never changed) for every request that repeats them, so that what was found of them once holds for all.
 */
export function sharedNamesBytes(request: object): Buffer | undefined {
  const names = keptNames(request);
  return names?.shared === true ? names.bytes : undefined;
}

/** The scan's summary of a request's names, when {@link sotwRequestDecoder} left them encoded. */
export function resourceNamesSummary(request: object): NamesSummary | undefined {
  return keptNames(request)?.summary;
}

/** DiscoveryRequest's fields other than `resource_names`, by number, as the decoder reads them. */
type FieldKind = 'string' | 'message' | 'other';

/**
 * What {@link scan} found besides the names, by field number: where the body of a field starts and ends (-1 when
 * the request does not hold it). Module variables, filled by each scan: no object per request.
 */
const bodyStart = new Int32Array(8);
const bodyEnd = new Int32Array(8);
/** The run of names when it is left encoded (many names): its bytes and what it holds. */
let runKept: KeptNames | undefined;
/** The names, decoded, when they are few (then {@link runKept} is undefined); taken by {@link build}. */
let runNames: string[] | undefined;

/**
 * Reads the layout of an encoded DiscoveryRequest: true when its `resource_names` (field 3) are in one run (as
 * encoders write them) and valid UTF-8, and every other field is one `kinds` names as a string or a message, held
 * at most once; then {@link runKept} (or {@link runNames}), {@link bodyStart} and {@link bodyEnd} say where
 * everything is. False otherwise, and for any field that is not length-delimited or any varint this reader does
 * not take: protobuf-es then reads the request or reports the problem.
 */
function scan(bytes: Buffer, kinds: readonly FieldKind[]): boolean {
  bodyStart.fill(-1);
  let start = -1;
  let end = -1;
  let count = 0;
  let globs = 0;
  let longest = 0;
  let longestBytes = -1;
  /** True while every tag and length in the run is one byte (ASCII), so one UTF-8 check covers every name. */
  let oneByte = true;
  /** A remembered run the names start with (see known-runs.ts). */
  let known: KnownRun | undefined;
  let pos = 0;
  while (pos < bytes.length) {
    const fieldAt = pos;
    let tag: number;
    let length: number;
    let body: number;
    const first = bytes[pos]!;
    const second = bytes[pos + 1] ?? 0x80;
    if (first < 0x80 && second < 0x80) {
      // The usual case: a one-byte tag and a one-byte length.
      tag = first;
      length = second;
      body = pos + 2;
    } else {
      tag = readVarint(bytes, pos);
      if (tag < 0) return false;
      length = readVarint(bytes, varintEnd);
      if (length < 0) return false;
      body = varintEnd;
    }
    if ((tag & 7) !== 2 || tag < 8 || body + length > bytes.length) return false;
    pos = body + length;
    const no = tag >>> 3;
    if (no !== 3) {
      // Another field: one this reader takes, once (protobuf-es would merge a message given twice).
      if ((kinds[no] ?? 'other') === 'other' || bodyStart[no] !== -1) return false;
      bodyStart[no] = body;
      bodyEnd[no] = pos;
      continue;
    }
    if (start === -1) {
      start = fieldAt;
      // The names of an ACK are most often a run seen before: one comparison instead of a walk over each field.
      known = knownRunAt(bytes, fieldAt);
      if (known !== undefined) {
        ({ count, globs, longest, longestBytes } = known.summary);
        oneByte = known.oneByte;
        end = pos = fieldAt + known.bytes.length;
        continue;
      }
    } else if (end !== fieldAt) return false;
    end = pos;
    if (body - fieldAt !== 2) oneByte = false;
    if (length > longestBytes) {
      longest = count;
      longestBytes = length;
    }
    if (length >= 2 && bytes[pos - 2] === 0x2f && bytes[pos - 1] === 0x2a) globs++;
    count++;
  }
  // A remembered run is valid UTF-8: only what follows it (the same run, extended) needs the check.
  const exact = known !== undefined && end - start === known.bytes.length;
  if (count > 0 && !exact && !namesAreUtf8(bytes, start, end, oneByte)) return false;
  if (count < minLazyNames) {
    // Few names (a wildcard ACK has none): decoded now, as protobuf-es would.
    runKept = undefined;
    runNames = count === 0 ? [] : decodeNames(bytes.subarray(start, end));
  } else if (exact) runKept = known;
  else {
    const summary = { count, globs, longest, longestBytes };
    runKept = sawRun(bytes, start, end, summary, oneByte) ?? {
      bytes: bytes.subarray(start, end),
      summary,
      shared: false,
    };
  }
  return true;
}

/** protobuf-es's reader of `string` fields: strict UTF-8, and a leading U+FEFF is text, not a byte-order mark. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The string field `no` of the scanned request ('' when absent), or undefined when it is not UTF-8. */
function stringField(bytes: Buffer, no: number): string | undefined {
  const start = bodyStart[no]!;
  if (start < 0) return '';
  const end = bodyEnd[no]!;
  for (let i = start; i < end; i++) {
    if (bytes[i]! < 0x80) continue;
    try {
      return strictUtf8.decode(bytes.subarray(start, end));
    } catch {
      return undefined;
    }
  }
  return bytes.toString('latin1', start, end);
}

/** protobuf-es's default bound on message nesting; a message field decoded on its own is one level down. */
const nested = { recursionLimit: 99 };

/** Where each of DiscoveryRequest's fields is, by name: what the decoder builds a request from. */
interface Fields {
  readonly typeName: string;
  readonly kinds: readonly FieldKind[];
  readonly versionInfo: number;
  readonly typeUrl: number;
  readonly responseNonce: number;
  readonly node: { readonly no: number; readonly schema: DescMessage };
  readonly errorDetail: { readonly no: number; readonly schema: DescMessage };
}

/**
 * DiscoveryRequest's fields as this reader knows them: `version_info`, `node`, `resource_names` (3),
 * `resource_locators`, `type_url`, `response_nonce`, `error_detail`. Undefined for any other layout (a schema of
 * another Envoy API version): the decoder then always lets protobuf-es decode.
 */
function fieldsOf(schema: typeof DiscoveryRequestSchema): Fields | undefined {
  const byName = new Map(schema.fields.map((field) => [field.localName, field]));
  const kinds: FieldKind[] = Array.from({ length: bodyStart.length }, () => 'other');
  const string = (name: string): number => {
    const field = byName.get(name);
    if (field?.fieldKind !== 'scalar' || field.scalar !== ScalarType.STRING || field.number >= kinds.length)
      return -1;
    kinds[field.number] = 'string';
    return field.number;
  };
  const message = (name: string): { no: number; schema: DescMessage } | undefined => {
    const field = byName.get(name);
    if (field?.fieldKind !== 'message' || field.delimitedEncoding || field.number >= kinds.length)
      return undefined;
    kinds[field.number] = 'message';
    return { no: field.number, schema: field.message };
  };
  const names = byName.get('resourceNames');
  const locators = byName.get('resourceLocators');
  if (names?.number !== 3 || names.fieldKind !== 'list' || names.listKind !== 'scalar') return undefined;
  if (schema.fields.length !== 7 || locators?.fieldKind !== 'list') return undefined;
  const versionInfo = string('versionInfo');
  const typeUrl = string('typeUrl');
  const responseNonce = string('responseNonce');
  const node = message('node');
  const errorDetail = message('errorDetail');
  if (versionInfo < 0 || typeUrl < 0 || responseNonce < 0 || node === undefined || errorDetail === undefined)
    return undefined;
  return { typeName: schema.typeName, kinds, versionInfo, typeUrl, responseNonce, node, errorDetail };
}

/** A message field of the scanned request decoded by protobuf-es from its own bytes: null when it is absent. */
function messageField(bytes: Buffer, field: Fields['node']): object | null {
  const start = bodyStart[field.no]!;
  if (start < 0) return null;
  return fromBinary(field.schema, bytes.subarray(start, bodyEnd[field.no]!), nested);
}

/**
 * The request of the scanned bytes, its names left encoded; undefined when protobuf-es must decide (a string that
 * is not UTF-8, a message field protobuf-es cannot read from its own bytes alone). Its keys are protobuf-es's for
 * such a request: every scalar and list field, and a message field only when present.
 */
function build(bytes: Buffer, fields: Fields): DiscoveryRequest | undefined {
  const kept = runKept;
  const names = runNames;
  runNames = undefined;
  const versionInfo = stringField(bytes, fields.versionInfo);
  const typeUrl = stringField(bytes, fields.typeUrl);
  const responseNonce = stringField(bytes, fields.responseNonce);
  if (versionInfo === undefined || typeUrl === undefined || responseNonce === undefined) return undefined;
  let node: object | null;
  let errorDetail: object | null;
  try {
    // protobuf-es does not hold a message's inner fields to the message's length: a string inside a broken
    // `node` may run on into the fields after it. Read from its own bytes, where running on is an error, a
    // message protobuf-es reads within its length decodes the same; any other goes to protobuf-es, whole.
    node = messageField(bytes, fields.node);
    errorDetail = messageField(bytes, fields.errorDetail);
  } catch {
    return undefined;
  }
  if (kept === undefined) {
    const request: Record<string, unknown> = {
      $typeName: fields.typeName,
      versionInfo,
      resourceNames: names ?? [],
      resourceLocators: [],
      typeUrl,
      responseNonce,
    };
    if (node !== null) request.node = node;
    if (errorDetail !== null) request.errorDetail = errorDetail;
    return request as unknown as DiscoveryRequest;
  }
  const request: Record<string, unknown> = {
    $typeName: fields.typeName,
    versionInfo,
    resourceLocators: [],
    typeUrl,
    responseNonce,
  };
  if (node !== null) request.node = node;
  if (errorDetail !== null) request.errorDetail = errorDetail;
  keepNames(request, kept);
  return request as unknown as DiscoveryRequest;
}

/**
 * The deserializer of SotW DiscoveryRequests: like {@link requestDecoder} (with `limits`, after the wire pass of
 * request-wire.ts; with `deferNode`, the node left undecoded but for its id, as request-node.ts says), but a long
 * `resource_names` is decoded only when read, and its bytes are kept for {@link resourceNamesBytes}.
 */
export function sotwRequestDecoder(
  schema: typeof DiscoveryRequestSchema,
  limits?: ResolvedLimits,
  deferNode = false,
): (bytes: Buffer) => DiscoveryRequest | UndecodableRequest {
  const whole = requestDecoder(schema);
  const layout = limits === undefined ? undefined : requestLayout(schema);
  const fields = fieldsOf(schema);
  return (input) => {
    // The wire pass (rule L2) first: no request over the limits is decoded, and details are never decoded.
    const bytes = layout === undefined ? input : trimRequest(input, layout, limits!, deferNode);
    if (bytes instanceof UndecodableRequest) return bytes;
    const node = deferNode ? takeWireNode() : undefined;
    const request =
      fields === undefined || !scan(bytes, fields.kinds)
        ? whole(bytes)
        : (build(bytes, fields) ?? whole(bytes));
    if (node !== undefined && !(request instanceof UndecodableRequest)) keepWireNode(request, node);
    return request;
  };
}
