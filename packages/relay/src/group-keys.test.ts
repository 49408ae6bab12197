// Rules L5 and L2 at the relay's door: a node's group key (its node id, cluster or metadata value, as `--group-by`
// says) becomes the upstream node id `relay~KEY`, so a key holding a control character, or longer than
// `maxGroupKeyBytes`, is refused with INVALID_ARGUMENT naming the field, as the server refuses such names, and
// nothing of it reaches the origin. A real origin, the real relay, real downstream clients.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { TypeUrl } from '@xds/api';
import { XdsTestClient } from '@xds/testing';
import { closeAfterAll, endedWithin, relayWaitMs, startOriginAndRelay } from './test-support.js';

const closers = closeAfterAll();
const { track } = closers;

function client(address: string, node: ConstructorParameters<typeof XdsTestClient>[0]['node']) {
  return track(new XdsTestClient({ address, node, timeoutMs: relayWaitMs }));
}

describe('relay: group keys at the door', () => {
  it('L5: a group key holding a control character is refused with INVALID_ARGUMENT; the origin never sees it', async () => {
    const { origin, address } = await startOriginAndRelay(closers, { groupBy: 'metadata:ROLE' });
    const bad = [
      {
        node: { id: 'm', metadata: { ROLE: 'web\nrole: admin' } },
        field: /node\.metadata\["ROLE"\]/,
        code: 'U\\+000A',
      },
      {
        node: { id: 'd', metadata: { ROLE: 'web\u007f' } },
        field: /node\.metadata\["ROLE"\]/,
        code: 'U\\+007F',
      },
    ];
    for (const { node, field, code } of bad) {
      const c = client(address, node);
      c.subscribe(TypeUrl.Cluster, ['c1']);
      const end = await endedWithin(c, 'a node with a bad group key');
      assert.equal(end.code, status.INVALID_ARGUMENT, end.details);
      assert.match(end.details, field);
      assert.match(end.details, new RegExp(`control character ${code}`));
    }
    // A good node of the same relay is served, and it is the only group the origin sees.
    const good = client(address, { id: 'g', metadata: { ROLE: 'web' } });
    good.subscribe(TypeUrl.Cluster, ['c1']);
    await good.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.has('c1'));
    assert.deepEqual(
      origin.server.clients().map((c) => c.nodeId),
      ['relay~web'],
    );
  });

  it('L5: under --group-by node-id, a node id with a control character is refused before anything opens upstream', async () => {
    const { origin, relay, address } = await startOriginAndRelay(closers, { groupBy: 'node-id' });
    const c = client(address, { id: 'n\u0001' });
    c.subscribe(TypeUrl.Cluster, ['c1']);
    const end = await endedWithin(c, 'a node with a bad group key');
    assert.equal(end.code, status.INVALID_ARGUMENT, end.details);
    assert.match(end.details, /node\.id \(the relay group\) holds the control character U\+0001 at 1/);
    assert.deepEqual(relay.groups(), []);
    assert.deepEqual(origin.server.clients(), []);
  });

  it('L2: a group key longer than maxGroupKeyBytes is refused with INVALID_ARGUMENT naming the limit', async () => {
    const { origin, address } = await startOriginAndRelay(closers, {
      groupBy: 'cluster',
      maxGroupKeyBytes: 64,
    });
    const long = client(address, { id: 'l', cluster: 'é'.repeat(40) });
    long.subscribe(TypeUrl.Cluster, ['c1']);
    const end = await endedWithin(long, 'a node with a long group key');
    assert.equal(end.code, status.INVALID_ARGUMENT, end.details);
    assert.match(
      end.details,
      /node\.cluster \(the relay group\) is 80 bytes, longer than the relay's limit maxGroupKeyBytes \(--max-group-key-bytes 64\)/,
    );
    const fits = client(address, { id: 'f', cluster: 'é'.repeat(32) });
    fits.subscribe(TypeUrl.Cluster, ['c1']);
    await fits.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.has('c1'));
    assert.deepEqual(
      origin.server.clients().map((c) => c.nodeId),
      [`relay~${'é'.repeat(32)}`],
    );
  });
});
