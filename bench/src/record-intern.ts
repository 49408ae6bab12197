/**
 * Resources already held, found by their type and bytes: what our bench peer keeps between snapshots so that a
 * record it already holds is not built again (rule R3: a push encodes only what changed). The key is a 32-bit
 * hash of the bytes computed in JavaScript (cheaper than a crypto hash for a few hundred bytes); a hit is
 * confirmed by comparing the type and the bytes, so two resources that share a hash never share an entry.
 */
import type { EncodedResource } from '@xds/cache';
import { sameBytesAt } from './records.js';

/** FNV-1a over bytes `start` to `end` (default: all), 32 bits. */
export function hashBytes(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  return hash >>> 0;
}

/** True when `entry` is of that type and holds bytes `start` to `end` of `body` (no closure: this is hot). */
function same(entry: Held, typeUrl: string, body: Buffer, start: number, end: number): boolean {
  return entry.resource.typeUrl === typeUrl && sameBytesAt(body, start, end, entry.resource.bytes);
}

/** One held resource and how many snapshots (nodes) hold it. */
export interface Held {
  readonly resource: EncodedResource;
  refs: number;
}

/** Held resources by content, counted by the nodes whose snapshots hold them. */
export class RecordIntern {
  readonly #byHash = new Map<number, Held | Held[]>();
  readonly #byNode = new Map<string, Held[]>();

  /** The held entry of that type with bytes `start` to `end` of `body` (whose hash is `hash`), if any. */
  find(typeUrl: string, body: Buffer, start: number, end: number, hash: number): Held | undefined {
    const found = this.#byHash.get(hash);
    if (found === undefined) return undefined;
    if (!Array.isArray(found)) return same(found, typeUrl, body, start, end) ? found : undefined;
    for (const entry of found) if (same(entry, typeUrl, body, start, end)) return entry;
    return undefined;
  }

  /** Makes `entries` (hash, entry) node `node`'s (adding new ones), releasing the entries it held before. */
  commit(node: string, hashes: readonly number[], entries: readonly Held[]): void {
    for (const [i, entry] of entries.entries()) if (entry.refs++ === 0) this.#add(hashes[i]!, entry);
    for (const entry of this.#byNode.get(node) ?? []) if (--entry.refs === 0) this.#remove(entry);
    this.#byNode.set(node, [...entries]);
  }

  #add(hash: number, entry: Held): void {
    const found = this.#byHash.get(hash);
    if (found === undefined) this.#byHash.set(hash, entry);
    else if (Array.isArray(found)) found.push(entry);
    else this.#byHash.set(hash, [found, entry]);
  }

  #remove(entry: Held): void {
    const hash = hashBytes(entry.resource.bytes);
    const found = this.#byHash.get(hash);
    if (found === entry) this.#byHash.delete(hash);
    else if (Array.isArray(found)) {
      const rest = found.filter((other) => other !== entry);
      if (rest.length === 0) this.#byHash.delete(hash);
      else this.#byHash.set(hash, rest.length === 1 ? rest[0]! : rest);
    }
  }
}
