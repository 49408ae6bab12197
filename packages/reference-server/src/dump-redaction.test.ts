import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REDACTED, TypeUrl } from '@xds/api';
import { Snapshot } from '@xds/cache';
import { makeCluster, makeSecret } from '@xds/generator';
import { XdsTestClient } from '@xds/testing';
import { reviewsModel } from './demo/demo-model.js';
import type { ReferenceServer } from './reference-server.js';
import { get, getJson, startInProcess, tempDir } from './test-support.js';

const chain = '-----BEGIN CERTIFICATE-----\nMIIBpublicchainpublicchain\n-----END CERTIFICATE-----\n';

/** True when `text` holds any 8 consecutive characters of the key's PEM body (escaped for JSON or not). */
function holdsKey(text: string, pem: string): boolean {
  const body = pem
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('-----'))
    .join('');
  const base64 = Buffer.from(pem).toString('base64');
  for (const secret of [body, base64])
    for (let i = 0; i + 8 <= secret.length; i++) if (text.includes(secret.slice(i, i + 8))) return true;
  return false;
}

describe('dumps redact secrets (rule L6)', () => {
  let temp: ReturnType<typeof tempDir>;
  let server: ReferenceServer;
  let client: XdsTestClient;
  let key: string;

  before(async () => {
    temp = tempDir();
    const file = join(temp.dir, 'mesh.yaml');
    writeFileSync(file, reviewsModel({ v1Port: 50051, v2Port: 50052, weights: { v1: 100, v2: 0 } }));
    ({ server } = await startInProcess(file));
    key = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    // The snapshot of Envoy nodes, now with an identity: a Secret and a cluster that names it.
    server.cache.setSnapshot(
      'envoy',
      Snapshot.create([
        makeSecret('server-cert', { certificateChain: chain, privateKey: key }),
        makeCluster({ name: 'tls-backend' }),
      ]),
    );
    client = new XdsTestClient({ address: server.xdsAddress, node: 'envoy-secrets' });
    client.subscribe(TypeUrl.Secret, ['server-cert']);
    await client.waitFor(TypeUrl.Secret, (r) => r.acked === true);
  });

  after(async () => {
    await client?.close();
    await server?.close();
    temp?.remove();
  });

  it('L6: /debug/config_dump of a node served a private key shows [redacted], never a byte of the key', async () => {
    const served = client.resources(TypeUrl.Secret).get('server-cert');
    assert.ok(served !== undefined, 'the node itself got its secret');

    for (const node of ['envoy-secrets', 'envoy']) {
      const page = await get(server.adminAddress, `/debug/config_dump?node=${node}`);
      assert.equal(page.status, 200);
      assert.equal(holdsKey(page.body, key), false, `config_dump?node=${node} holds the key`);
      const dump = JSON.parse(page.body) as {
        genericXdsConfigs: {
          name: string;
          xdsConfig: { tlsCertificate?: Record<string, { inlineString?: string }> };
        }[];
      };
      const secret = dump.genericXdsConfigs.find((c) => c.name === 'server-cert');
      assert.equal(secret?.xdsConfig.tlsCertificate?.['privateKey']?.inlineString, REDACTED);
      assert.equal(secret?.xdsConfig.tlsCertificate?.['certificateChain']?.inlineString, chain);
    }
    // The other views that print resources hold no key either.
    for (const path of ['/debug/edsz', '/debug/adsz', '/debug/syncz', '/debug/configz']) {
      const page = await getJson<unknown>(server.adminAddress, path);
      assert.equal(holdsKey(JSON.stringify(page), key), false, path);
    }
  });
});
