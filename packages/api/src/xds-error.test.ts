import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code, XdsError } from './xds-error.js';

describe('XdsError', () => {
  it('carries a code, a name for it and the cause', () => {
    const cause = new RangeError('bad');
    const error = new XdsError(Code.InvalidArgument, 'node.id is empty', { cause });
    assert.equal(error.code, 3);
    assert.equal(error.codeName, 'InvalidArgument');
    assert.equal(error.cause, cause);
    assert.ok(error instanceof Error);
  });

  it('from() keeps an XdsError and wraps anything else as Internal', () => {
    const original = new XdsError(Code.NotFound, 'x');
    assert.equal(XdsError.from(original), original);
    const wrapped = XdsError.from(new Error('boom'));
    assert.equal(wrapped.code, Code.Internal);
    assert.equal(wrapped.message, 'boom');
    assert.equal(XdsError.from('text', Code.Unavailable).code, Code.Unavailable);
  });
});
