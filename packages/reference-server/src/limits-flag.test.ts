// `--limit NAME=VALUE` and `--limits-file` reach the xDS server of the real `xds-server` process (rule L2): a fleet
// that shares one node id can raise maxStreamsPerNode, an operator can lower any limit, and the change shows on the
// wire.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { TypeUrl } from '@xds/api';
import { defaultLimits } from '@xds/server';
import { XdsTestClient } from '@xds/testing';
import { type ServerProcess, startServerProcess } from './demo/server-process.js';
import { poll, tempDir } from './test-support.js';

/** A deadline for the process to start, generous for a loaded machine (it resolves as soon as the server is up). */
const startOptions = { timeoutMs: 60_000 };

describe('xds-server --limit', () => {
  let server: ServerProcess;
  const clients: XdsTestClient[] = [];
  const connect = (node: string) => {
    const client = new XdsTestClient({ address: server.xdsAddress, node, timeoutMs: 15_000 });
    clients.push(client);
    return client;
  };

  before(async () => {
    server = await startServerProcess(
      [
        '--xds',
        '127.0.0.1:0',
        '--admin',
        '127.0.0.1:0',
        '--limit',
        'maxStreamsPerNode=2',
        '--limit',
        'maxNamesPerRequest=3',
      ],
      startOptions,
    );
  });

  after(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await server?.process.stop('SIGKILL');
  });

  it('L2: logs every limit it runs with at start, the given ones over the defaults', () => {
    const started = server.logs.find((line) => line['xdsSecurity'] !== undefined);
    assert.deepEqual(started?.['limits'], {
      ...defaultLimits,
      maxStreamsPerNode: 2,
      maxNamesPerRequest: 3,
    });
  });

  it('L2: a lowered maxStreamsPerNode refuses the node its third stream with RESOURCE_EXHAUSTED naming the limit', async () => {
    const first = connect('fleet-node');
    const second = connect('fleet-node');
    for (const client of [first, second]) {
      client.subscribe(TypeUrl.Cluster, ['*']);
      await client.waitFor(TypeUrl.Cluster, (response) => response.acked === true);
    }
    const third = connect('fleet-node');
    third.subscribe(TypeUrl.Cluster, ['*']);
    const end = await third.ended(TypeUrl.Cluster);
    assert.equal(end.code, status.RESOURCE_EXHAUSTED, end.details);
    assert.match(
      end.details,
      /node "fleet-node" already has limits\.maxStreamsPerNode \(2\) xDS streams open/,
    );

    // Another node id is not affected, and the node gets a stream again once one of its streams ends.
    const other = connect('other-node');
    other.subscribe(TypeUrl.Cluster, ['*']);
    await other.waitFor(TypeUrl.Cluster, (response) => response.acked === true);
    await first.close();
    // The server sees the cancel a moment after the client: poll with new streams until one is admitted.
    const again = await poll(
      'a stream of fleet-node admitted after one of its two ended',
      async () => {
        const client = connect('fleet-node');
        client.subscribe(TypeUrl.Cluster, ['*']);
        const outcome = await Promise.race([
          client.waitFor(TypeUrl.Cluster, (response) => response.acked === true).then(() => 'acked'),
          client.ended(TypeUrl.Cluster).then((ended) => `ended ${ended.code} ${ended.details}`),
        ]);
        if (outcome === 'acked') return client;
        assert.match(outcome, /limits\.maxStreamsPerNode/);
        return undefined;
      },
      30_000,
    );
    assert.ok(again.resources(TypeUrl.Cluster).size > 0, 'again.resources(TypeUrl.Cluster).size > 0');
  });

  it('L2: a lowered maxNamesPerRequest ends a stream asking for more names with RESOURCE_EXHAUSTED naming it', async () => {
    const client = connect('names-node');
    client.subscribe(TypeUrl.Cluster, ['a', 'b', 'c', 'd']);
    const end = await client.ended(TypeUrl.Cluster);
    assert.equal(end.code, status.RESOURCE_EXHAUSTED, end.details);
    assert.match(end.details, /has 4 names, more than limits\.maxNamesPerRequest \(3\)/);
  });
});

describe('xds-server --limits-file', () => {
  let temp: ReturnType<typeof tempDir>;
  let server: ServerProcess;
  const clients: XdsTestClient[] = [];

  before(async () => {
    temp = tempDir();
    const file = join(temp.dir, 'limits.json');
    writeFileSync(file, JSON.stringify({ maxStreamsPerNode: 1, maxGlobsPerRequest: 2 }));
    server = await startServerProcess(
      [
        '--xds',
        '127.0.0.1:0',
        '--admin',
        '127.0.0.1:0',
        '--limits-file',
        file,
        '--limit',
        'maxGlobsPerRequest=1',
      ],
      startOptions,
    );
  });

  after(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await server?.process.stop('SIGKILL');
    temp?.remove();
  });

  it('L2: the file sets limits and --limit wins over it, in the start-up log and on the wire', async () => {
    const started = server.logs.find((line) => line['xdsSecurity'] !== undefined);
    assert.deepEqual(started?.['limits'], { ...defaultLimits, maxStreamsPerNode: 1, maxGlobsPerRequest: 1 });
    const first = new XdsTestClient({ address: server.xdsAddress, node: 'file-node', timeoutMs: 15_000 });
    const second = new XdsTestClient({ address: server.xdsAddress, node: 'file-node', timeoutMs: 15_000 });
    clients.push(first, second);
    first.subscribe(TypeUrl.Cluster, ['*']);
    await first.waitFor(TypeUrl.Cluster, (response) => response.acked === true);
    second.subscribe(TypeUrl.Cluster, ['*']);
    const end = await second.ended(TypeUrl.Cluster);
    assert.equal(end.code, status.RESOURCE_EXHAUSTED, end.details);
    assert.match(end.details, /limits\.maxStreamsPerNode \(1\)/);
  });
});
