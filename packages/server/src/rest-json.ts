// Rule L2 for REST bodies (rest.ts), whose node comes as proto3 JSON, not on the wire: the same node limits as the
// gRPC wire pass holds a node to (request-wire.ts: `maxNodeListEntries`, `maxNodeMetadataDepth`, `maxNodeBytes`),
// and a bound on the JSON's nesting before `JSON.parse` reads it. V8 parses deep JSON without running out of stack,
// but slowly: a 16 MiB body of nested arrays kept the loop busy for 13 s on a loaded 2-core machine, a scan of the
// same bytes for their depth 0.26 s. The node is checked on the parsed JSON, walked without recursion, before
// protobuf-es builds a message of it (its `fromJson` recurses, and builds every value a huge node holds).
import { type DescField, type DescMessage, toBinary } from '@bufbuild/protobuf';
import { Code, type Node, NodeSchema, XdsError } from '@xds/api';
import { Refused, type Shape } from './canonical-wire.js';
import type { Limits, ResolvedLimits } from './limits.js';
import { nodeShape } from './request-wire.js';

/** A REST body past one of the limits here: INVALID_ARGUMENT (HTTP 400) naming `limit`. */
export class RestLimitError extends XdsError {
  constructor(
    message: string,
    readonly limit: keyof Limits,
  ) {
    super(Code.InvalidArgument, message);
  }
}

/** Levels of JSON a REST body may nest beyond its node's metadata: the request, node, extensions, version... */
export const restJsonLevels = 16;

/** The deepest nesting of JSON a REST body may have: {@link restJsonLevels} more than the node's metadata. */
export function maxRestJsonDepth(limits: ResolvedLimits): number {
  return limits.maxNodeMetadataDepth + restJsonLevels;
}

/**
 * Refuses JSON text (`bytes`, UTF-8) nested deeper than `max` objects and arrays, in one pass over its bytes
 * (brackets inside strings do not count), before it is parsed: INVALID_ARGUMENT naming the limit.
 */
export function checkJsonDepth(bytes: Uint8Array, max: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max)
        throw new RestLimitError(
          `body nests JSON deeper than ${max} levels (limits.maxNodeMetadataDepth + ${restJsonLevels})`,
          'maxNodeMetadataDepth',
        );
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
}

/** The descriptors of the JSON-like messages, taken from Node's own graph (one instance of each). */
const structDesc = NodeSchema.fields.find((f) => f.name === 'metadata')!.message as DescMessage;
const structFields = structDesc.fields.find((f) => f.name === 'fields')!;
const valueDesc = (structFields as DescField & { message: DescMessage }).message;
const listDesc = valueDesc.fields.find((f) => f.name === 'list_value')!.message as DescMessage;
const listValues = listDesc.fields.find((f) => f.name === 'values')!;

/** Fields of a message by their JSON names and proto names, both of which proto3 JSON readers accept. */
const jsonFields = new WeakMap<DescMessage, ReadonlyMap<string, DescField>>();

function fieldsOf(desc: DescMessage): ReadonlyMap<string, DescField> {
  let fields = jsonFields.get(desc);
  if (fields === undefined) {
    const map = new Map<string, DescField>();
    for (const field of desc.fields) {
      map.set(field.jsonName, field);
      map.set(field.name, field);
    }
    fields = map;
    jsonFields.set(desc, fields);
  }
  return fields;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A value still to walk: its JSON, what it is (a message, or a `google.protobuf.Value`), its Struct levels. */
interface Pending {
  readonly json: unknown;
  readonly desc: DescMessage;
  readonly depth: number;
}

/** Counts a level of Struct or ListValue: refuses past `maxNodeMetadataDepth`, as the wire pass words it. */
function level(shape: Shape, depth: number): number {
  if (depth + 1 > shape.maxDepth)
    throw new Refused(
      Code.InvalidArgument,
      `${shape.what} nests Struct and ListValue values deeper than limits.${shape.depthLimit} (${shape.maxDepth})`,
      shape.depthLimit,
    );
  return depth + 1;
}

/** Walks the JSON of a node as protobuf-es would read it, holding it to `shape` (entries and Struct depth). */
function walk(node: unknown, shape: Shape): void {
  const pending: Pending[] = [{ json: node, desc: NodeSchema, depth: 0 }];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    const { json, desc, depth } = item;
    if (desc === valueDesc || desc === structDesc || desc === listDesc) {
      // A Value is its JSON: an object is a Struct, an array a ListValue, anything else a leaf.
      if (Array.isArray(json) && desc !== structDesc) {
        shape.entries(listValues, json.length);
        const next = level(shape, depth);
        for (const value of json) pending.push({ json: value, desc: valueDesc, depth: next });
      } else if (isObject(json) && desc !== listDesc) {
        const values = Object.values(json);
        shape.entries(structFields, values.length);
        const next = level(shape, depth);
        for (const value of values) pending.push({ json: value, desc: valueDesc, depth: next });
      }
      continue;
    }
    // Other well-known types (none holds a list) are leaves; so is JSON of the wrong kind (protobuf-es refuses it).
    if (!isObject(json) || desc.typeName.startsWith('google.protobuf.')) continue;
    const fields = fieldsOf(desc);
    for (const key of Object.keys(json)) {
      const field = fields.get(key);
      const value = json[key];
      if (field === undefined || value === null || value === undefined) continue;
      if (field.fieldKind === 'list') {
        if (!Array.isArray(value)) continue;
        shape.entries(field, value.length);
        if (field.listKind === 'message')
          for (const entry of value) pending.push({ json: entry, desc: field.message, depth });
      } else if (field.fieldKind === 'map') {
        if (!isObject(value)) continue;
        const entries = Object.values(value);
        shape.entries(field, entries.length);
        if (field.mapKind === 'message')
          for (const entry of entries) pending.push({ json: entry, desc: field.message, depth });
      } else if (field.fieldKind === 'message') pending.push({ json: value, desc: field.message, depth });
    }
  }
}

/**
 * Holds the JSON of a REST request's node (before protobuf-es reads it) to `maxNodeListEntries` and
 * `maxNodeMetadataDepth`, as the wire pass holds a gRPC request's: INVALID_ARGUMENT (HTTP 400) naming the limit.
 */
export function checkJsonNode(node: unknown, limits: ResolvedLimits): void {
  try {
    walk(node, nodeShape(limits));
  } catch (error) {
    if (!(error instanceof Refused) || error.limit === undefined) throw error;
    throw new RestLimitError(error.message, error.limit);
  }
}

/** Holds a REST request's decoded node to `maxNodeBytes`, counted as its protobuf encoding: INVALID_ARGUMENT (400). */
export function checkNodeBytes(node: Node | undefined, limits: ResolvedLimits): void {
  if (node === undefined) return;
  const bytes = toBinary(NodeSchema, node).length;
  if (bytes > limits.maxNodeBytes)
    throw new RestLimitError(
      `node is ${bytes} bytes (as protobuf), more than limits.maxNodeBytes (${limits.maxNodeBytes})`,
      'maxNodeBytes',
    );
}
