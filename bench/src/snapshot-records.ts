/**
 * How our bench peer turns a records body (records.ts) into snapshot resources. A record whose resource equals
 * one of a snapshot still held reuses it, as a control plane that keeps unchanged resources between snapshots
 * does (what @xds/generator's memo does); so a push encodes only the resources that changed (rule R3). The bytes
 * of new resources are copied out of the body into one buffer of their own, so that a body is not kept alive by
 * the few resources of it that are still held.
 */
import { isTypeUrl, type TypeUrl } from '@xds/api';
import { type EncodedResource, opaqueResource } from '@xds/cache';
import { type Held, hashBytes, RecordIntern } from './record-intern.js';
import { forEachRecord, readName } from './records.js';

const held = new RecordIntern();

/** A snapshot's resources from a records body; `commit(node)` records that node `node` now holds them. */
export interface RecordsSnapshot {
  readonly resources: EncodedResource[];
  readonly commit: (node: string) => void;
}

/**
 * The resource of new bytes (a copy the resource may keep): opaque, not decoded (its message is decoded only if
 * something reads it), named by field 1 of the bytes (rule R1: `name`, or `cluster_name` for an assignment).
 */
function build(typeUrl: TypeUrl, bytes: Uint8Array): EncodedResource {
  return opaqueResource({ typeUrl, bytes, name: readName(bytes) });
}

/** Makes a body's resources, reusing those already held. Throws an Error on a bad record. */
export function snapshotFromRecords(data: Uint8Array): RecordsSnapshot {
  const body = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const hashes: number[] = [];
  const entries: Held[] = [];
  const fresh: { index: number; typeUrl: TypeUrl; start: number; end: number }[] = [];
  let freshBytes = 0;
  forEachRecord(body, (index, typeUrl, start, end) => {
    if (!isTypeUrl(typeUrl)) throw new Error(`unsupported type_url "${typeUrl}"`);
    const hash = hashBytes(body, start, end);
    hashes.push(hash);
    const found = held.find(typeUrl, body, start, end, hash);
    entries.push(found!);
    if (found === undefined) {
      fresh.push({ index, typeUrl, start, end });
      freshBytes += end - start;
    }
  });
  const copy = Buffer.allocUnsafeSlow(freshBytes);
  let offset = 0;
  for (const { index, typeUrl, start, end } of fresh) {
    body.copy(copy, offset, start, end);
    const bytes = copy.subarray(offset, offset + end - start);
    offset += end - start;
    try {
      entries[index] = { resource: build(typeUrl, bytes), refs: 0 };
    } catch (error) {
      throw new Error(`record ${index}: ${(error as Error).message}`);
    }
  }
  return {
    resources: entries.map((entry) => entry.resource),
    commit: (node) => held.commit(node, hashes, entries),
  };
}
