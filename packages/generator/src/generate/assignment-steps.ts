// One ClusterLoadAssignment in steps of a bounded number of endpoints (rule L4: nothing a file or a registry holds
// may stall the server). A service of 100,000 endpoints and no subsets is within the model limits and is one
// assignment: hashing its key, building it, freezing it and encoding it were each one piece of about 100 times the
// work of a 1,000-endpoint assignment. Here each of them walks `chunk` endpoints a step: the key is a streaming
// hash, the endpoints are built and frozen a chunk at a time, and the encoding is put together from the encodings
// of the parts, byte for byte what `toBinary` gives for the whole (protobuf-es writes fields by number).
import { createHash } from 'node:crypto';
import { create, type Message, toBinary } from '@bufbuild/protobuf';
import {
  type ClusterLoadAssignment,
  ClusterLoadAssignmentSchema,
  type LbEndpoint,
  LocalityLbEndpointsSchema,
} from '@xds/api';
import { type EndpointSpec, type LocalitySpec, lbEndpoint } from '../builders/cluster-load-assignment.js';
import { freezeAndMeasure, type ResourceMemo } from './memo.js';
import { stableJson } from './stable-json.js';
import type { Steps } from './steps.js';

/** Endpoints walked in one step: about a millisecond of building or encoding on the bench machine. */
export const endpointsPerStep = 250;

/**
 * A memo key (`kind:` and 16 characters of SHA-256, like `ResourceMemo.key`) of `head` and of `lists` of items,
 * hashed `endpointsPerStep` items a step: the stable JSON of the head (with each list's length), then of each chunk.
 */
export function* hashSteps(
  kind: string,
  head: unknown,
  ...lists: readonly (readonly unknown[])[]
): Steps<string> {
  const hash = createHash('sha256');
  hash.update(stableJson({ head, lengths: lists.map((list) => list.length) }));
  for (const list of lists) {
    for (let i = 0; i < list.length; i += endpointsPerStep) {
      hash.update(`\n${stableJson(list.slice(i, i + endpointsPerStep))}`);
      yield;
    }
  }
  return `${kind}:${hash.digest('base64url').slice(0, 16)}`;
}

/** The memo key of an assignment (see {@link hashSteps}). */
export function assignmentKeySteps(name: string, localities: readonly LocalitySpec[]): Steps<string> {
  const head = { name, localities: localities.map(({ endpoints, ...locality }) => locality) };
  return hashSteps('cla', head, ...localities.map((locality) => locality.endpoints));
}

/**
 * Builds the assignment a chunk of endpoints a step (each chunk frozen as it is built), and returns it with the
 * estimated bytes of the parts frozen here (for `ResourceMemo.getByKey`'s `measured`). The result equals
 * `makeClusterLoadAssignment(name, localities)`.
 */
export function* buildAssignmentSteps(
  name: string,
  localities: readonly LocalitySpec[],
): Steps<{ readonly assignment: ClusterLoadAssignment; readonly bytes: number }> {
  let bytes = 0;
  const built: LbEndpoint[][] = [];
  for (const locality of localities) {
    const list: LbEndpoint[] = [];
    built.push(list);
    for (let i = 0; i < locality.endpoints.length; i += endpointsPerStep) {
      const chunk = locality.endpoints.slice(i, i + endpointsPerStep).map((e: EndpointSpec) => lbEndpoint(e));
      for (const endpoint of chunk) bytes += freezeAndMeasure(endpoint);
      list.push(...chunk);
      yield;
    }
  }
  // made empty and filled: create() would walk every endpoint again
  const assignment = create(ClusterLoadAssignmentSchema, { clusterName: name });
  assignment.endpoints = localities.map((l, index) => {
    const group = create(LocalityLbEndpointsSchema, {
      locality: {
        region: l.locality.region ?? '',
        zone: l.locality.zone ?? '',
        subZone: l.locality.subZone ?? '',
      },
      loadBalancingWeight: l.weight,
      priority: l.priority ?? 0,
    });
    group.lbEndpoints = built[index]!;
    return group;
  });
  return { assignment, bytes };
}

/** Appends a varint. */
function varint(out: number[], value: number): void {
  let v = value;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

/** The tag and length of a length-delimited field (field 2 of an assignment: a locality). */
function lengthPrefix(field: number, length: number): Uint8Array {
  const out: number[] = [];
  varint(out, (field << 3) | 2);
  varint(out, length);
  return Uint8Array.from(out);
}

/** Where the fields numbered below `field` end in an encoding (protobuf-es writes fields in number order). */
function fieldsBelow(bytes: Uint8Array, field: number): number {
  let at = 0;
  const read = (): number => {
    let value = 0;
    let scale = 1;
    for (;;) {
      const byte = bytes[at++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
  };
  while (at < bytes.length) {
    const start = at;
    const tag = read();
    if (Math.floor(tag / 8) >= field) return start;
    const wireType = tag & 7;
    if (wireType === 0) read();
    else if (wireType === 1) at += 8;
    else if (wireType === 2) {
      const length = read(); // read first: `at += read()` would add to the position before the length
      at += length;
    } else if (wireType === 5) at += 4;
    else throw new Error(`unexpected wire type ${wireType} in an assignment's encoding`);
  }
  return at;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * The protobuf encoding of an assignment, `endpointsPerStep` endpoints a step: each locality's fields around its
 * `lb_endpoints` (field 2), and the assignment's around its `endpoints` (field 2), are encoded without them and
 * split by field number; the endpoints are encoded one by one. Equal to `toBinary(ClusterLoadAssignmentSchema, a)`.
 */
export function* encodeAssignmentSteps(assignment: ClusterLoadAssignment): Steps<Uint8Array> {
  const localities: Uint8Array[] = [];
  for (const locality of assignment.endpoints) {
    const around = toBinary(LocalityLbEndpointsSchema, { ...locality, lbEndpoints: [] });
    const split = fieldsBelow(around, 2);
    const parts: Uint8Array[] = [around.subarray(0, split)];
    // a locality with only a chunk of endpoints encodes to exactly their field-2 entries
    const holder = create(LocalityLbEndpointsSchema);
    for (let i = 0; i < locality.lbEndpoints.length; i += endpointsPerStep) {
      holder.lbEndpoints = locality.lbEndpoints.slice(i, i + endpointsPerStep);
      parts.push(toBinary(LocalityLbEndpointsSchema, holder));
      yield;
    }
    parts.push(around.subarray(split));
    const body = concat(parts);
    localities.push(lengthPrefix(2, body.length), body);
  }
  const around = toBinary(ClusterLoadAssignmentSchema, { ...assignment, endpoints: [] });
  const split = fieldsBelow(around, 2);
  return concat([around.subarray(0, split), ...localities, around.subarray(split)]);
}

/** True for an assignment (the one resource type whose size a model multiplies). */
export function isAssignment(message: Message): message is ClusterLoadAssignment {
  return message.$typeName === ClusterLoadAssignmentSchema.typeName;
}

/** A memo entry of an assignment made in steps (see {@link buildAssignmentSteps}). */
export function* assignmentEntrySteps(
  name: string,
  localities: readonly LocalitySpec[],
  memo: ResourceMemo,
): Steps<readonly [key: string, value: ClusterLoadAssignment]> {
  const key = yield* assignmentKeySteps(name, localities);
  if (memo.has(key)) return [key, memo.getByKey<ClusterLoadAssignment>(key, () => unreachable(key))];
  const { assignment, bytes } = yield* buildAssignmentSteps(name, localities);
  return [key, memo.getByKey(key, () => assignment, bytes)];
}

function unreachable(key: string): never {
  throw new Error(`memo entry ${key} vanished`);
}
