import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { XdsTestClient } from '@xds/testing';
import { reviewsModel } from './demo/demo-model.js';
import type { ModelRejectedEvent } from './model-file.js';
import type { ReferenceServer } from './reference-server.js';
import { dumpDom } from './test-chromium.js';
import { get, save, startInProcess, tempDir } from './test-support.js';

const model = reviewsModel({ v1Port: 50051, v2Port: 50052, weights: { v1: 100, v2: 0 } });
const nackMessage = 'listener 0.0.0.0_9080: filter <envoy.filters.http.nope> is unknown';

describe('status page', () => {
  let temp: ReturnType<typeof tempDir>;
  let file: string;
  let server: ReferenceServer;
  let client: XdsTestClient;
  let errorLine: number;

  before(async () => {
    temp = tempDir();
    file = join(temp.dir, 'mesh.yaml');
    writeFileSync(file, model);
    ({ server } = await startInProcess(file));
    client = new XdsTestClient({
      address: server.xdsAddress,
      node: 'browser-node',
      nack: (response) => (response.typeUrl === TypeUrl.Listener ? nackMessage : undefined),
    });
    const nacked = new Promise((resolve) => server.xds.once('nack', resolve));
    client.subscribe(TypeUrl.Cluster, ['*']);
    client.subscribe(TypeUrl.Listener, ['*']);
    await client.waitFor(TypeUrl.Cluster, (r) => r.acked === true);
    await nacked;
    const broken = model.replace('port: 9086', 'port: 70000');
    errorLine = broken.split('\n').findIndex((line) => line.includes('70000')) + 1;
    const rejected = new Promise<ModelRejectedEvent>((resolve) => server.model.once('rejected', resolve));
    save(file, broken);
    await rejected;
  });

  after(async () => {
    await client?.close();
    await server?.close();
    temp?.remove();
  });

  it('renders on the server: node, SYNCED / NACKED with the message (escaped), and the config error', async () => {
    const page = await get(server.adminAddress, '/');
    assert.equal(page.status, 200);
    assert.match(page.type, /^text\/html/);
    assert.match(page.body, /data-node="browser-node"/);
    assert.match(page.body, /class="status SYNCED">SYNCED</);
    assert.match(page.body, /class="status NACKED">NACKED</);
    assert.ok(
      page.body.includes('filter &lt;envoy.filters.http.nope&gt; is unknown'),
      "page.body.includes('filter &lt;envoy.filters.http.nope&gt; is unknown')",
    );
    assert.ok(page.body.includes(`${file}:${errorLine}:`), `the error names ${file}:${errorLine}`);
  });

  it('in headless Chromium, the page refreshed from /debug/syncz shows the node, its status and the errors', async () => {
    const dom = await dumpDom(`http://${server.adminAddress}/`);
    assert.match(
      dom,
      /<body [^>]*data-rendered="client"/,
      'the script re-rendered the page from /debug/syncz',
    );
    assert.match(dom, /<a class="node-id" href="\/debug\/config_dump\?node=browser-node">browser-node<\/a>/);
    assert.match(dom, /<td>cds<\/td><td class="status SYNCED">SYNCED<\/td>/);
    assert.match(dom, /<td>lds<\/td><td class="status NACKED">NACKED<\/td>/);
    assert.ok(
      dom.includes(
        '<td class="nack">listener 0.0.0.0_9080: filter &lt;envoy.filters.http.nope&gt; is unknown</td>',
      ),
      'dom.includes( \'<td class="nack">listener 0.0.0.0_9080: filter &lt;envoy.filters.http.nope&gt; is unknown</td>\', )',
    );
    assert.match(dom, /id="config-error"/);
    assert.ok(dom.includes(`${file}:${errorLine}:`), 'the config error names file and line');
    assert.ok(dom.includes('services[3].endpoints[0].port: 70000 is out of range'), 'and the field');
  });
});
