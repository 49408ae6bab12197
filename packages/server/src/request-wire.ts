// A wire pass over a request before protobuf-es decodes it (rules L2 and L1). protobuf-es decodes a message whole:
// 15 MiB of empty `Any`s in `error_detail.details` (which the server never reads) or of unknown fields become
// millions of objects, seconds of CPU on the event loop and hundreds of MB, before any limit is checked. This pass
// walks the request's top-level fields without decoding them, counts the repeated fields that carry names (node
// matchers for CSDS) and refuses more than their limit, holds the `node` to its limits (its bytes, the entries of
// its repeated fields and maps, the nesting of its metadata), bounds the dynamic parameters of its resource
// locators (`maxLocatorParameters`), and drops what the server never reads: the `details` of `error_detail` (its
// `code` and `message` are kept) and unknown fields. It serves discovery requests (SotW, delta, Fetch) and CSDS
// requests. For a discovery stream (`deferNode`) it leaves the node out of what protobuf-es decodes, walked but
// not decoded, its id read: the stream decodes the node of its first request only (request-node.ts, rule S2).
//
// Rule L1: on every request it passes on, protobuf-es's decode of its output equals protobuf-es's decode of the
// input apart from the dropped details and unknown fields (`wire-readers.test.ts` and `wire-node-bounds.test.ts`
// hold it to that on random and damaged requests). It reads only canonical protobuf: a request with a group, a
// known field of another wire type than its own, or a field that runs past its message is refused as not parsing
// (protobuf-es would read some of those leniently, and no encoder writes them).
import type { DescField, DescMessage } from '@bufbuild/protobuf';
import { Code } from '@xds/api';
import {
  checkField,
  checkMessage,
  end,
  fieldOf,
  Refused,
  Shape,
  skipValue,
  tagAt,
} from './canonical-wire.js';
import { UndecodableRequest } from './codec.js';
import type { ResolvedLimits } from './limits.js';
import type { WireNode } from './request-node.js';

/** Repeated fields counted together against a limit, and how an error names them. */
interface CountedFields {
  readonly fields: readonly number[];
  readonly what: string;
  /** What the fields hold, for the error: `names`, `node matchers`. */
  readonly noun: string;
  readonly limit: 'maxNamesPerRequest' | 'maxStatusMatchers';
  readonly code: Code;
}

/** What the wire pass knows of a request message. */
export interface RequestLayout {
  readonly typeName: string;
  /** Field numbers of the message's fields. */
  readonly known: ReadonlySet<number>;
  /** The field number of `error_detail` (a `google.rpc.Status`), or -1 when the message has none (CSDS). */
  readonly errorDetail: number;
  /** The field number of `node`. */
  readonly node: number;
  /** The field number of CSDS's `node_matchers`, each held to `limits.maxStatusMatcherBytes`, or -1. */
  readonly matchers: number;
  /** Field numbers of the resource locator lists, whose dynamic parameters count toward `maxLocatorParameters`. */
  readonly locators: readonly number[];
  readonly schema: DescMessage;
  readonly counted: readonly CountedFields[];
}

/** The layout of a request schema: DiscoveryRequest, DeltaDiscoveryRequest or ClientStatusRequest. */
export function requestLayout(schema: DescMessage): RequestLayout {
  const has = (name: string) => schema.fields.some((f) => f.name === name);
  const number = (name: string): number => {
    const field = schema.fields.find((f) => f.name === name);
    if (field === undefined) throw new Error(`${schema.typeName} has no field ${name}`);
    return field.number;
  };
  const group = (
    names: readonly string[],
    noun = 'names',
    limit: CountedFields['limit'] = 'maxNamesPerRequest',
    code: Code = Code.ResourceExhausted,
  ): CountedFields | undefined => {
    const present = names.filter(has);
    if (present.length === 0) return undefined;
    return { fields: present.map(number), what: present.join(' + '), noun, limit, code };
  };
  const counted = [
    group(['resource_names']),
    group(['resource_locators']),
    group(['resource_names_subscribe', 'resource_names_unsubscribe']),
    group(['initial_resource_versions']),
    group(['resource_locators_subscribe', 'resource_locators_unsubscribe']),
    // CSDS: INVALID_ARGUMENT, as this limit always was.
    group(['node_matchers'], 'node matchers', 'maxStatusMatchers', Code.InvalidArgument),
  ].filter((g): g is CountedFields => g !== undefined);
  return {
    schema,
    typeName: schema.typeName,
    known: new Set(schema.fields.map((f) => f.number)),
    errorDetail: has('error_detail') ? number('error_detail') : -1,
    node: number('node'),
    matchers: has('node_matchers') ? number('node_matchers') : -1,
    locators: ['resource_locators', 'resource_locators_subscribe', 'resource_locators_unsubscribe']
      .filter(has)
      .map(number),
    counted,
  };
}

/**
 * Calls `visit` with the number and extent of each field of a `google.rpc.Status { code = 1, message = 2,
 * details = 3 }` body; with `status`, checks each field as protobuf-es would read it (the details too, which are
 * checked but never decoded).
 */
function forEachStatusField(
  bytes: Uint8Array,
  from: number,
  to: number,
  status: DescMessage | undefined,
  visit: (no: number, start: number, end: number) => void,
): void {
  let pos = from;
  while (pos < to) {
    const start = pos;
    if (bytes[pos] === 0x1a && bytes[pos + 1] === 0) {
      // An empty detail (tag and length of one byte each, zero length): nothing to check.
      pos += 2;
      visit(3, start, pos);
      continue;
    }
    const tag = tagAt(bytes, pos, to);
    const no = tag >>> 3;
    const field = status === undefined ? undefined : fieldOf(status, no);
    pos =
      field === undefined
        ? skipValue(bytes, tag & 7, end, to, no)
        : checkField(bytes, field, tag & 7, end, to, 1, true);
    visit(no, start, pos);
  }
}

/** Whether a Status field is kept: `code` and `message`. */
const keptStatusField = (no: number) => no === 1 || no === 2;

/**
 * Checks the body of a Status and returns how many of its bytes are kept without its details and unknown fields,
 * or -1 when every byte is kept.
 */
function statusKept(bytes: Uint8Array, from: number, to: number, status: DescMessage): number {
  let kept = 0;
  let dropped = false;
  forEachStatusField(bytes, from, to, status, (no, start, stop) => {
    if (keptStatusField(no)) kept += stop - start;
    else dropped = true;
  });
  return dropped ? kept : -1;
}

/** Copies the `code` and `message` fields of a Status body that {@link statusKept} checked; returns the end. */
function copyStatus(bytes: Buffer, from: number, to: number, out: Buffer, at: number): number {
  let outPos = at;
  forEachStatusField(bytes, from, to, undefined, (no, start, stop) => {
    if (keptStatusField(no)) outPos += bytes.copy(out, outPos, start, stop);
  });
  return outPos;
}

function writeVarint(out: Buffer, at: number, value: number): number {
  let pos = at;
  let rest = value;
  while (rest > 0x7f) {
    out[pos++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  out[pos++] = rest;
  return pos;
}

/**
 * Walks a request's top-level fields: refuses one over the limits (RESOURCE_EXHAUSTED or INVALID_ARGUMENT naming
 * the limit) or not canonical protobuf (INVALID_ARGUMENT), and returns its bytes without error details and unknown
 * fields (the same buffer when there are none).
 */
export function trimRequest(
  bytes: Buffer,
  layout: RequestLayout,
  limits: ResolvedLimits,
  deferNode = false,
): Buffer | UndecodableRequest {
  wireNode = undefined;
  try {
    return trim(bytes, layout, limits, deferNode);
  } catch (error) {
    return refusal(error, layout.typeName);
  }
}

/** The request a {@link Refused} error stands for (any other error is thrown on). */
export function refusal(error: unknown, typeName: string): UndecodableRequest {
  if (!(error instanceof Refused)) throw error;
  const message =
    error.code === Code.InvalidArgument && error.limit === undefined
      ? `${typeName} does not parse: ${error.message}`
      : error.message;
  return new UndecodableRequest(message, error.code, error.limit);
}

/** The node the last {@link trimRequest} with `deferNode` left out of its output, if the request had one. */
let wireNode: WireNode | undefined;

/** Takes the node the last {@link trimRequest} with `deferNode` left undecoded (request-node.ts), if any. */
export function takeWireNode(): WireNode | undefined {
  const node = wireNode;
  wireNode = undefined;
  return node;
}

/** protobuf-es's reader of `string` fields: strict UTF-8, and a leading U+FEFF is text, not a byte-order mark. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Walks the top-level fields of a node body (`from`..`to`) without reading their values; returns where the value
 * of its last `id` (field 1) starts and ends, or undefined when it has none.
 */
function lastIdAt(bytes: Uint8Array, from: number, to: number): [start: number, stop: number] | undefined {
  let found: [number, number] | undefined;
  let pos = from;
  while (pos < to) {
    const tag = tagAt(bytes, pos, to);
    const no = tag >>> 3;
    const wire = tag & 7;
    pos = skipValue(bytes, wire, end, to, no);
    if (no !== 1) continue;
    if (wire !== 2) throw new Refused(Code.InvalidArgument, `field 1 has wire type ${wire}`);
    found = [end, pos];
  }
  return found;
}

/** The node's id as protobuf-es would decode it from the id field at `at` ('' when there is none). */
function idText(bytes: Buffer, at: readonly [number, number] | undefined): string {
  if (at === undefined) return '';
  const [start, stop] = at;
  for (let i = start; i < stop; i++) {
    if (bytes[i]! < 0x80) continue;
    try {
      return strictUtf8.decode(bytes.subarray(start, stop));
    } catch {
      throw new Refused(Code.InvalidArgument, 'node.id is not UTF-8');
    }
  }
  return bytes.toString('latin1', start, stop);
}

/** The message of a length-delimited field at `at` (after its tag): checks its wire type, returns where it ends. */
function messageEnd(bytes: Uint8Array, field: DescField, wire: number, at: number, limit: number): number {
  if (wire !== 2) throw new Refused(Code.InvalidArgument, `field ${field.number} has wire type ${wire}`);
  return skipValue(bytes, wire, at, limit, field.number);
}

/** The bounds of a request's node (rule L2): its entries and its metadata's nesting. */
export function nodeShape(limits: ResolvedLimits): Shape {
  return new Shape(
    'node',
    limits.maxNodeListEntries,
    'maxNodeListEntries',
    limits.maxNodeMetadataDepth,
    'maxNodeMetadataDepth',
  );
}

function trim(bytes: Buffer, layout: RequestLayout, limits: ResolvedLimits, deferNode: boolean): Buffer {
  const counts = layout.counted.map(() => 0);
  // The node's bytes and entries, every occurrence counted (protobuf-es merges them into one node).
  let nodeBytes = 0;
  let shape: Shape | undefined;
  // With `deferNode`: where the node's occurrences are, and its last id.
  let nodeStart = -1;
  let nodeEnd = -1;
  let nodeParts: Uint8Array[] | undefined;
  let idAt: [number, number] | undefined;
  let locators: Shape | undefined;
  let matcher = 0;
  let matchers: Shape | undefined;
  // What is kept is copied into `out` once something is dropped: never more bytes than the request's, and no
  // object per field.
  let out: Buffer | undefined;
  let outPos = 0;
  let from = 0;
  let pos = 0;
  const length = bytes.length;
  while (pos < length) {
    const at = pos;
    const tag = tagAt(bytes, pos, length);
    const no = tag >>> 3;
    const wire = tag & 7;
    const body = end;
    if (!layout.known.has(no)) {
      pos = skipValue(bytes, wire, body, length, no);
      out ??= Buffer.allocUnsafe(length);
      outPos += bytes.copy(out, outPos, from, at);
      from = pos;
      continue;
    }
    for (let i = 0; i < counts.length; i++) if (layout.counted[i]!.fields.includes(no)) counts[i]!++;
    const field = fieldOf(layout.schema, no)!;
    if (no === layout.node && field.fieldKind === 'message') {
      // The node's bytes before a byte of it is read, then its shape as it is walked: nothing over is decoded.
      pos = messageEnd(bytes, field, wire, body, length);
      nodeBytes += pos - end;
      if (nodeBytes > limits.maxNodeBytes)
        throw new Refused(
          Code.ResourceExhausted,
          `node is ${nodeBytes} bytes, more than limits.maxNodeBytes (${limits.maxNodeBytes})`,
          'maxNodeBytes',
        );
      if (deferNode) {
        // Left undecoded (request-node.ts): only its id is read, and the field is left out of the output.
        const start = end;
        // Walked, not decoded: a node that is not canonical protobuf is refused as in any other request, so
        // that the id read here is the one protobuf-es would read (rule L1).
        checkMessage(bytes, start, pos, field.message, 1, false);
        idAt = lastIdAt(bytes, start, pos) ?? idAt;
        if (nodeStart < 0) {
          nodeStart = start;
          nodeEnd = pos;
        } else {
          nodeParts ??= [bytes.subarray(nodeStart, nodeEnd)];
          nodeParts.push(bytes.subarray(start, pos));
        }
        // What is kept is at most the request less this node (a node is most of a later request's bytes).
        out ??= Buffer.allocUnsafe(length - (pos - at));
        outPos += bytes.copy(out, outPos, from, at);
        from = pos;
        continue;
      }
      shape ??= nodeShape(limits);
      checkMessage(bytes, end, pos, field.message, 1, false, shape);
      continue;
    }
    if (no === layout.matchers && field.fieldKind === 'list' && field.listKind === 'message') {
      pos = messageEnd(bytes, field, wire, body, length);
      if (pos - end > limits.maxStatusMatcherBytes)
        throw new Refused(
          Code.InvalidArgument,
          `node_matchers[${matcher}] is ${pos - end} bytes, more than limits.maxStatusMatcherBytes (${limits.maxStatusMatcherBytes})`,
          'maxStatusMatcherBytes',
        );
      // Each repeated field of the matchers (an or_match's branches, node_metadatas, path keys) counted across the
      // request against maxStatusMatcherNodes before any is decoded: 1.6 MB of 148,000 ValueMatchers (probe Q1) took
      // 0.5-1 s to decode, only for the compiler to refuse them (matcher-budget.ts).
      matchers ??= new Shape(
        'node_matchers',
        limits.maxStatusMatcherNodes,
        'maxStatusMatcherNodes',
        limits.maxNodeMetadataDepth,
        'maxNodeMetadataDepth',
      );
      checkMessage(bytes, end, pos, field.message, 1, false, matchers);
      matcher++;
      continue;
    }
    if (layout.locators.includes(no) && field.fieldKind === 'list' && field.listKind === 'message') {
      // Each locator's dynamic parameters (a map the server never reads), counted across the request.
      pos = messageEnd(bytes, field, wire, body, length);
      locators ??= new Shape(
        'resource locators',
        limits.maxLocatorParameters,
        'maxLocatorParameters',
        limits.maxNodeMetadataDepth,
        'maxNodeMetadataDepth',
      );
      checkMessage(bytes, end, pos, field.message, 1, false, locators);
      continue;
    }
    if (no !== layout.errorDetail) {
      // Strings protobuf-es decodes are checked by protobuf-es: only dropped ones (details) are checked here.
      pos = checkField(bytes, field, wire, body, length, 0, false);
      continue;
    }
    pos = messageEnd(bytes, field, wire, body, length);
    const start = end;
    const status = field.fieldKind === 'message' ? field.message : layout.schema;
    const kept = statusKept(bytes, start, pos, status);
    if (kept < 0) continue;
    out ??= Buffer.allocUnsafe(length);
    outPos += bytes.copy(out, outPos, from, body);
    outPos = writeVarint(out, outPos, kept);
    outPos = copyStatus(bytes, start, pos, out, outPos);
    from = pos;
  }
  // Counted from the wire: no name was decoded.
  for (let i = 0; i < counts.length; i++) {
    const { what, noun, limit, code } = layout.counted[i]!;
    const max = limits[limit];
    if (counts[i]! > max)
      throw new Refused(code, `${what} has ${counts[i]} ${noun}, more than limits.${limit} (${max})`, limit);
  }
  if (nodeStart >= 0)
    wireNode = {
      body: nodeParts === undefined ? bytes.subarray(nodeStart, nodeEnd) : Buffer.concat(nodeParts),
      id: idText(bytes, idAt),
      typeName: layout.typeName,
    };
  if (out === undefined) return bytes;
  outPos += bytes.copy(out, outPos, from, length);
  return out.subarray(0, outPos);
}
