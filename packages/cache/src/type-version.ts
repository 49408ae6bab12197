import { createHash } from 'node:crypto';

/**
 * An order-independent content hash of a set of (name, version) pairs: the XOR of a hash of each pair. Adding or
 * removing one pair costs O(1), so a type's version follows a partial update in O(changed) work (rule S14), and
 * two processes holding the same resources compute the same version.
 */
export class TypeHash {
  readonly #bits: Uint8Array;

  private constructor(bits: Uint8Array) {
    this.#bits = bits;
  }

  /** The hash of the empty set. */
  static empty(): TypeHash {
    return new TypeHash(new Uint8Array(16));
  }

  /** The hash of a set of pairs. */
  static of(pairs: Iterable<{ readonly name: string; readonly version: string }>): TypeHash {
    const bits = new Uint8Array(16);
    for (const pair of pairs) xorInto(bits, pair.name, pair.version);
    return new TypeHash(bits);
  }

  /** A new hash with pairs removed and added (a pair given in both is replaced). */
  with(
    removed: Iterable<{ readonly name: string; readonly version: string }>,
    added: Iterable<{ readonly name: string; readonly version: string }>,
  ): TypeHash {
    const bits = new Uint8Array(this.#bits);
    for (const pair of removed) xorInto(bits, pair.name, pair.version);
    for (const pair of added) xorInto(bits, pair.name, pair.version);
    return new TypeHash(bits);
  }

  /** The version string. */
  toString(): string {
    return Buffer.from(this.#bits.buffer, this.#bits.byteOffset, 16).toString('base64url');
  }
}

function xorInto(bits: Uint8Array, name: string, version: string): void {
  const digest = createHash('sha256').update(name).update('\0').update(version).digest();
  for (let i = 0; i < 16; i++) bits[i]! ^= digest[i]!;
}
