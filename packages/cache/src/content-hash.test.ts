// contentHash is every resource's version (rules D4, S14): it must stay the same function of the bytes across
// releases and processes, whatever the way it is computed.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { contentHash } from './encoded-resource.js';

describe('contentHash', () => {
  it('D4: is the first 96 bits of SHA-256 in base64url, for bytes and for text', () => {
    for (const data of [
      new Uint8Array(0),
      new Uint8Array([1, 2, 3]),
      new Uint8Array(1000).fill(7),
      'héllo',
    ]) {
      const expected = createHash('sha256').update(data).digest().subarray(0, 12).toString('base64url');
      assert.equal(contentHash(data), expected);
      assert.equal(contentHash(data).length, 16);
    }
  });
});
