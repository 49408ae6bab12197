// The status page shows each service registry (issue 11): kind, location, state (PENDING until its first sync,
// SYNCED, STALE after it loses its server), services, instances, last change and last error; rendered on the server
// and again by the page's script from /debug/syncz (in headless Chromium), and the same in /debug/configz and the
// metrics. Against a real etcd, stopped in the middle, and a second registry nothing answers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Etcd3 } from 'etcd3';
import { type HeldPort, holdPort } from '../../../scripts/registries/held-port.mjs';
import { type RunningEtcd, startEtcd } from '../../../scripts/registries/servers.mjs';
import type { Syncz } from './admin/syncz.js';
import { createLogger } from './logger.js';
import { type ReferenceServer, startReferenceServer } from './reference-server.js';
import type { RegistriesSummary } from './registries.js';
import { dumpDom } from './test-chromium.js';
import { get, getJson, memoryLog, poll, startInProcess } from './test-support.js';

/** The registry rows of a page, as `kind|location|state|services|instances` lines. */
function rows(html: string): string[] {
  const out: string[] = [];
  for (const match of html.matchAll(
    /<tr class="registry" data-kind="([^"]*)" data-state="([^"]*)"><td>[^<]*<\/td><td><code>([^<]*)<\/code><\/td><td class="status [A-Z]+">[A-Z]+<\/td><td>(\d+)<\/td><td>(\d+)<\/td>/g,
  )) {
    out.push(`${match[1]}|${match[3]}|${match[2]}|${match[4]}|${match[5]}`);
  }
  return out;
}

/** The last-error cell of the row of `location`. */
function errorCell(html: string, location: string): string {
  const at = html.indexOf(`<code>${location}</code>`);
  assert.ok(at >= 0, `a row for ${location}`);
  const cell = html.slice(at).match(/<td class="registry-error">(.*?)<\/td><\/tr>/);
  return cell?.[1] ?? '';
}

describe('status page with registries', () => {
  let etcd: RunningEtcd;
  let server: ReferenceServer;
  let live: string;
  let dead: string;
  /** The dead registry's port: held by this test with nothing behind it (a port picked free could be bound by any
   * process, another test's etcd included, before the registry asks it). */
  let nothing: HeldPort;

  before(async () => {
    etcd = await startEtcd();
    const client = new Etcd3({ hosts: etcd.url });
    await client.put('/s/services/default/web').value(
      JSON.stringify({
        name: 'web',
        ports: [{ name: 'http', port: 8080 }],
        endpoints: [
          { address: '192.0.2.1', port: 9000 },
          { address: '192.0.2.2', port: 9000 },
        ],
      }),
    );
    client.close();
    live = `${etcd.url}/s`;
    nothing = await holdPort();
    dead = `${nothing.url}/none`;
    server = await startReferenceServer({
      xds: '127.0.0.1:0',
      admin: '127.0.0.1:0',
      logger: createLogger('debug', memoryLog().stream),
      debounceMs: 20,
      closeGraceMs: 500,
      registries: [
        { kind: 'etcd', location: live },
        { kind: 'etcd', location: dead },
      ],
    });
  });

  after(async () => {
    await server?.close();
    await nothing?.close();
    await etcd?.stop();
  });

  it('a synced registry and a pending one, on the server and in Chromium; then the synced one goes stale', async () => {
    const first = await poll(
      'the live registry synced and the dead one failed once',
      async () => {
        const view = await getJson<Syncz>(server.adminAddress, '/debug/syncz');
        const [a, b] = view.registries?.registries ?? [];
        return a?.synced === true && b?.lastError !== undefined ? view : undefined;
      },
      30_000,
    );
    const [a] = first.registries?.registries ?? [];
    assert.equal(a?.lastChange !== undefined, true, 'the synced registry has a last change');

    const page = await get(server.adminAddress, '/');
    assert.equal(page.status, 200);
    assert.ok(
      page.body.includes('<section id="registries"><h2>Registries (2)</h2>'),
      'page.body.includes(\'<section id="registries"><h2>Registries (2)</h2>\')',
    );
    assert.deepEqual(rows(page.body), [`etcd|${live}|SYNCED|1|2`, `etcd|${dead}|PENDING|0|0`]);
    assert.equal(errorCell(page.body, live), '', 'no error on the synced registry');
    assert.match(errorCell(page.body, dead), /ECONNREFUSED|Unavailable|unavailable|connect/i);
    assert.match(page.body, /\d\d:\d\d:\d\d UTC<\/td><td class="registry-error"><\/td>/, 'its last change');

    const dom = await dumpDom(`http://${server.adminAddress}/`);
    assert.match(dom, /<body [^>]*data-rendered="client"/, 'the script rendered the page from /debug/syncz');
    assert.deepEqual(rows(dom), [`etcd|${live}|SYNCED|1|2`, `etcd|${dead}|PENDING|0|0`]);

    await etcd.stop();
    const stale = await poll(
      'the live registry is stale',
      async () => {
        const view = await getJson<Syncz>(server.adminAddress, '/debug/syncz');
        const [x] = view.registries?.registries ?? [];
        return x?.stale === true ? view : undefined;
      },
      30_000,
    );
    const [x] = stale.registries?.registries ?? [];
    assert.equal(x?.services, 1, 'a stale registry keeps its services');
    assert.equal(x?.instances, 2);

    const after = await dumpDom(`http://${server.adminAddress}/`);
    assert.match(after, /<body [^>]*data-rendered="client"/);
    assert.deepEqual(rows(after), [`etcd|${live}|STALE|1|2`, `etcd|${dead}|PENDING|0|0`]);
    assert.match(errorCell(after, live), /etcd/, 'the stale registry shows its last error');

    const configz = await getJson<{ registries: RegistriesSummary }>(server.adminAddress, '/debug/configz');
    assert.deepEqual(
      configz.registries.registries.map((r) => [r.location, r.synced, r.stale, r.services, r.instances]),
      [
        [live, true, true, 1, 2],
        [dead, false, false, 0, 0],
      ],
    );
    const metrics = (await get(server.adminAddress, '/metrics')).body;
    assert.match(metrics, new RegExp(`xds_registry_stale\\{kind="etcd",location="${live}"\\} 1`));
    assert.match(metrics, new RegExp(`xds_registry_instances\\{kind="etcd",location="${live}"\\} 2`));
    assert.match(metrics, new RegExp(`xds_registry_synced\\{kind="etcd",location="${dead}"\\} 0`));
  });

  it('a server without registries has no registries section', async () => {
    const view = await getJson<Syncz>(server.adminAddress, '/debug/syncz');
    assert.ok(view.registries !== undefined, 'this one has');
    const { server: plain } = await startInProcess();
    try {
      const page = await get(plain.adminAddress, '/');
      assert.ok(page.body.includes('<section id="registries"></section>'), 'an empty section');
      assert.deepEqual(rows(page.body), []);
      assert.equal((await getJson<Syncz>(plain.adminAddress, '/debug/syncz')).registries, undefined);
    } finally {
      await plain.close();
    }
  });
});
