// Rule S12 for a stream that has ended on the server's side but whose last response the client never reads: a
// client half-closes (or is refused) with a response queued and grants no flow-control window. The status would
// wait behind that response forever; the stream is reset after limits.drainTimeoutMs instead. Found by the fuzzer.
import assert from 'node:assert/strict';
import { constants } from 'node:http2';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { Snapshot, SnapshotCache } from '@xds/cache';
import { assignment, nextEvent } from './test-harness.js';
import { methodPathOf, RawConnection } from './test-raw-client.js';
import { XdsServer } from './xds-server.js';

const names = Array.from({ length: 300 }, (_, i) => `e${i}`);

describe('a client that half-closes and never reads', () => {
  it('S12: its stream is reset after limits.drainTimeoutMs instead of holding the response forever', async () => {
    const cache = new SnapshotCache();
    cache.setSnapshot('n', Snapshot.create(names.map((name, i) => assignment(name, 10_000 + i))));
    const server = new XdsServer({ cache, limits: { drainTimeoutMs: 300 }, closeGraceMs: 200 });
    const port = await server.listen('127.0.0.1:0');
    const connection = new RawConnection(port, { window: 0 });
    try {
      const stream = connection.open(methodPathOf('sotw'));
      const written = nextEvent(server, 'response', (e) => e.nodeId === 'n');
      stream.send({ node: { id: 'n' }, typeUrl: TypeUrl.Endpoint, resourceNames: names });
      await written;
      const closed = nextEvent(server, 'streamClose', (e) => e.nodeId === 'n');
      stream.stream.end();
      assert.equal((await closed).code, 0, 'the server ends its side with OK when the client half-closes');
      const end = await stream.end(15_000);
      assert.equal(end.rstCode, constants.NGHTTP2_ENHANCE_YOUR_CALM);
      assert.equal(server.streamStats().endedByLimit['drainTimeoutMs'], 1);
    } finally {
      connection.close();
      await server.close();
      cache.close();
    }
  });
});
