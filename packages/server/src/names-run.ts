import { isUtf8 } from 'node:buffer';

// A run of `resource_names` fields of a SotW request, as the decoder (sotw-request.ts) leaves it: encoded. These
// walk a run the decoder's scan has checked (tags and lengths of any varint length up to protobuf-es's bounds) to
// decode its names when someone reads them, to check their characters (rule L5) and their UTF-8 (rule L1: as
// protobuf-es does for a `string`).

/** Where the last successful {@link readVarint} stopped (a module variable: no tuple per varint on a hot path). */
export let varintEnd = 0;

/**
 * A varint of at most five bytes whose value fits in 32 bits, at `at`; -1 (and `varintEnd` untouched) when the
 * bytes end first or the varint is longer or larger. protobuf-es refuses such tags; it reads such lengths modulo
 * 2^32, which no honest encoder writes: declining sends those requests to protobuf-es.
 */
export function readVarint(bytes: Uint8Array, at: number): number {
  let value = 0;
  let pos = at;
  for (let shift = 0; shift < 35; shift += 7) {
    if (pos >= bytes.length) return -1;
    const byte = bytes[pos++]!;
    if (shift === 28 && byte > 0x0f) return -1;
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) {
      varintEnd = pos;
      return value;
    }
  }
  return -1;
}

/**
 * Calls `visit` with the start and end of each name in a run of `resource_names` fields that the scan has
 * checked. Throws if the run is not such a run (it cannot be: the scan declined those bytes).
 */
function forEachName(region: Uint8Array, visit: (start: number, end: number) => void): void {
  let pos = 0;
  while (pos < region.length) {
    if (readVarint(region, pos) < 0) throw new Error('resource_names: bad tag in a scanned run');
    const length = readVarint(region, varintEnd);
    if (length < 0 || varintEnd + length > region.length)
      throw new Error('resource_names: bad length in a scanned run');
    visit(varintEnd, varintEnd + length);
    pos = varintEnd + length;
  }
}

/** The names in a run of `resource_names` fields. */
export function decodeNames(region: Buffer): string[] {
  const names: string[] = [];
  forEachName(region, (start, end) => names.push(region.toString('utf8', start, end)));
  return names;
}

/**
 * The index of the first name in a run of `resource_names` fields that holds a C0 control character or DEL
 * (rule L5), or -1. UTF-8 never uses these byte values inside another character, so the bytes tell.
 */
export function controlCharacterIndex(region: Uint8Array): number {
  let index = 0;
  let found = -1;
  forEachName(region, (start, end) => {
    if (found < 0) {
      for (let i = start; i < end; i++) {
        const byte = region[i]!;
        if (byte < 0x20 || byte === 0x7f) {
          found = index;
          break;
        }
      }
    }
    index++;
  });
  return found;
}

/**
 * True when every name in the run `bytes[start, end)` is valid UTF-8, as protobuf-es requires of a `string`. When
 * every tag and length is one ASCII byte (`oneByte`), a name's broken or cut character shows as a break in the
 * run's UTF-8 (an ASCII byte is never a continuation byte), so one check of the whole run does; otherwise each
 * name is checked.
 */
export function namesAreUtf8(bytes: Buffer, start: number, end: number, oneByte: boolean): boolean {
  const region = bytes.subarray(start, end);
  if (oneByte) return isUtf8(region);
  let valid = true;
  forEachName(region, (from, to) => {
    if (valid && !isUtf8(region.subarray(from, to))) valid = false;
  });
  return valid;
}
