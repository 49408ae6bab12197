/**
 * How our bench peer turns a records body (records.ts) into snapshot resources. A record whose resource equals
 * one of a snapshot still held reuses it, as a control plane that keeps unchanged resources between snapshots
 * does (what @xds/generator's memo does); so a push encodes only the resources that changed (rule R3). The bytes
 * of new resources are copied out of the body into one buffer of their own, so that a body is not kept alive by
 * the few resources of it that are still held.
 */
import { fromBinary } from '@bufbuild/protobuf';
import { isTypeUrl, resourceType, type TypeUrl } from '@xds/api';
import { type EncodedResource, encodeResource } from '@xds/cache';
import { type Held, hashBytes, RecordIntern } from './record-intern.js';
import { decodeRecords, readAny } from './records.js';

const held = new RecordIntern();

/** A snapshot's resources from a records body; `commit(node)` records that node `node` now holds them. */
export interface RecordsSnapshot {
  readonly resources: EncodedResource[];
  readonly commit: (node: string) => void;
}

/** The resource of new bytes (a copy the resource may keep). */
function build(typeUrl: TypeUrl, bytes: Uint8Array): EncodedResource {
  const message = fromBinary(resourceType(typeUrl)!.schema, bytes);
  // The bytes are at hand: the resource keeps them as its encoding instead of encoding the message again.
  return encodeResource(message, { bytes });
}

/** Makes a body's resources, reusing those already held. Throws an Error on a bad record. */
export function snapshotFromRecords(body: Uint8Array): RecordsSnapshot {
  const records = decodeRecords(body);
  const n = records.length;
  const typeUrls = new Array<TypeUrl>(n);
  const values = new Array<Uint8Array>(n);
  const hashes = new Array<number>(n);
  const entries = new Array<Held>(n);
  const fresh: number[] = [];
  let freshBytes = 0;
  for (let i = 0; i < n; i++) {
    const { typeUrl, value } = readAny(records[i]!, i);
    if (!isTypeUrl(typeUrl)) throw new Error(`record ${i}: unsupported type_url "${typeUrl}"`);
    const hash = hashBytes(value);
    typeUrls[i] = typeUrl;
    values[i] = value;
    hashes[i] = hash;
    const found = held.find(typeUrl, value, hash);
    if (found !== undefined) entries[i] = found;
    else {
      fresh.push(i);
      freshBytes += value.length;
    }
  }
  const copy = Buffer.allocUnsafeSlow(freshBytes);
  let offset = 0;
  for (const i of fresh) {
    const bytes = copy.subarray(offset, offset + values[i]!.length);
    bytes.set(values[i]!);
    offset += bytes.length;
    try {
      entries[i] = { resource: build(typeUrls[i]!, bytes), refs: 0 };
    } catch (error) {
      throw new Error(`record ${i}: cannot decode ${typeUrls[i]}: ${(error as Error).message}`);
    }
  }
  return {
    resources: entries.map((entry) => entry.resource),
    commit: (node) => held.commit(node, hashes, entries),
  };
}
