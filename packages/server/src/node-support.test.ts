// Rule L4 (no input takes the server down): which Node versions carry the fix of the HTTP/2 abort (docs/security.md,
// "Known issue"), and the one line xds-server and xds-relay log at start on a Node without it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nodeHasHttp2Fix, nodeHttp2Warning } from './node-support.js';

describe('the Node versions with the HTTP/2 fix (rule L4)', () => {
  it('L4: Node 20 and older, and 22 and 24 before their fixed releases, lack it; the fixed releases and later have it', () => {
    for (const version of [
      '20.20.2',
      'v20.11.0',
      '18.20.8',
      '22.23.3',
      '22.22.9',
      '23.11.1',
      '24.22.1',
      '24.9.0',
      '25.9.0',
    ])
      assert.equal(nodeHasHttp2Fix(version), false, version);
    for (const version of ['22.23.5', 'v22.23.6', '22.24.0', '24.22.3', '24.23.0'])
      assert.equal(nodeHasHttp2Fix(version), true, version);
  });

  it('L4: the warning is one line naming the version, the known issue, its doc and the releases to prefer', () => {
    const warning = nodeHttp2Warning('20.20.2');
    assert.ok(warning !== undefined);
    assert.doesNotMatch(warning, /\n/);
    assert.match(warning, /^Node 20\.20\.2 /);
    assert.match(warning, /docs\/security\.md "Known issue"/);
    assert.match(warning, /22\.23\.5 or 24\.22\.3/);
    assert.equal(nodeHttp2Warning('24.22.3'), undefined);
  });
});
