import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { describe, it } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import { anyPack, anyUnpack } from '@bufbuild/protobuf/wkt';
import { credentials, makeGenericClientConstructor, type ServiceError, status } from '@grpc/grpc-js';
import {
  ClientStatusResponseSchema,
  ClusterSchema,
  DeltaDiscoveryRequestSchema,
  DiscoveryRequestSchema,
  discoveryMethods,
  REDACTED,
  resourceTypes,
  type Secret,
  SecretSchema,
  type TlsCertificate,
  TypeUrl,
  UpstreamTlsContextSchema,
} from '@xds/api';
import { Snapshot } from '@xds/cache';
import { makeSecret } from '@xds/generator';
import { csdsClient, forNodes } from './test-csds-client.js';
import { nextEvent, sample, start } from './test-harness.js';

const { Cluster } = TypeUrl;

/** Opens one discovery method as node `nodeId` and resolves with the status code it ends with. */
function callAs(address: string, method: (typeof discoveryMethods)[number], nodeId: string): Promise<number> {
  const Client = makeGenericClientConstructor({}, 'Raw');
  const client = new Client(address, credentials.createInsecure());
  const typeUrl = method.typeUrl ?? Cluster;
  const body =
    method.kind === 'delta'
      ? toBinary(
          DeltaDiscoveryRequestSchema,
          create(DeltaDiscoveryRequestSchema, { node: { id: nodeId }, typeUrl }),
        )
      : toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, { node: { id: nodeId }, typeUrl }));
  const serialize = (b: Uint8Array) => Buffer.from(b);
  const deserialize = (b: Buffer) => b;
  const options = { deadline: Date.now() + 10_000 };
  return new Promise<number>((resolve) => {
    if (method.kind === 'fetch') {
      client.makeUnaryRequest(
        method.path,
        serialize,
        deserialize,
        body,
        options,
        (error: ServiceError | null) => resolve(error?.code ?? status.OK),
      );
      return;
    }
    const call = client.makeBidiStreamRequest(method.path, serialize, deserialize, options);
    call.on('data', () => {
      resolve(status.OK);
      call.cancel();
    });
    call.on('error', (error: ServiceError) => resolve(error.code));
    call.write(body);
  }).finally(() => client.close());
}

function post(port: number, path: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('CSDS authorization (rule L6)', () => {
  it('L6: a node that authorize refuses is refused by every service on the port, CSDS included', async () => {
    const h = await start({ authorize: (node) => node.id !== 'intruder' });
    const csds = csdsClient(h.address);
    try {
      h.cache.setSnapshot('intruder', sample());
      // A client with config, whose status the intruder must not read.
      const friend = h.client({ node: 'n1' });
      friend.subscribe(Cluster, []);
      await friend.next(Cluster);

      for (const method of discoveryMethods) {
        assert.equal(
          await callAs(h.address, method, 'intruder'),
          status.PERMISSION_DENIED,
          `${method.path} (${method.kind})`,
        );
      }
      const port = await h.server.listenRest('127.0.0.1:0');
      for (const { restName, typeUrl } of resourceTypes) {
        if (restName === undefined) continue;
        const body = JSON.stringify({ node: { id: 'intruder' }, typeUrl });
        assert.equal(await post(port, `/v3/discovery:${restName}`, body), 403, restName);
      }

      // CSDS: refused to whoever asks, since no authorizeStatus grants it; the message names the option.
      for (const ask of [() => csds.fetch({}), () => csds.stream([{}])]) {
        await assert.rejects(ask(), (e: ServiceError) => {
          assert.equal(e.code, status.PERMISSION_DENIED);
          assert.match(e.details, /authorizeStatus/);
          return true;
        });
      }
    } finally {
      csds.close();
      await h.close();
    }
  });

  it('L6: authorizeStatus decides each CSDS request and sees the request and the call', async () => {
    const peers: string[] = [];
    const h = await start({
      authorize: (node) => node.id === 'n1',
      authorizeStatus: (request, call) => {
        peers.push(call.getPeer());
        return request.excludeResourceContents;
      },
    });
    const csds = csdsClient(h.address);
    try {
      const client = h.client({ node: 'n1' });
      client.subscribe(Cluster, []);
      await client.next(Cluster);

      const granted = await csds.fetch({ ...forNodes('n1'), excludeResourceContents: true });
      assert.deepEqual(
        granted.config.map((c) => c.node?.id),
        ['n1'],
      );
      assert.ok(granted.config[0]!.genericXdsConfigs.every((c) => c.xdsConfig === undefined));
      await assert.rejects(csds.fetch(forNodes('n1')), (e: ServiceError) => {
        assert.equal(e.code, status.PERMISSION_DENIED);
        assert.match(e.details, /refused by authorizeStatus/);
        return true;
      });
      assert.ok(peers.length >= 2 && peers.every((p) => p.includes('127.0.0.1')), peers.join());

      // On a stream, each request is decided: the first is answered, the refused second ends the stream.
      const answers: number[] = [];
      await assert.rejects(
        csds
          .stream([{ excludeResourceContents: true }, { excludeResourceContents: false }])
          .then((all) => answers.push(all.length)),
        (e: ServiceError) => e.code === status.PERMISSION_DENIED,
      );
      const both = await csds.stream([{ excludeResourceContents: true }, { excludeResourceContents: true }]);
      assert.equal(both.length, 2);
      assert.deepEqual(answers, []);
    } finally {
      csds.close();
      await h.close();
    }
  });

  it('L6: an authorizeStatus that throws or rejects grants nothing (PERMISSION_DENIED)', async () => {
    for (const hook of [
      () => {
        throw new Error('directory down');
      },
      () => Promise.reject(new Error('directory down')),
    ]) {
      const h = await start({ authorizeStatus: hook });
      const csds = csdsClient(h.address);
      try {
        await assert.rejects(csds.fetch({}), (e: ServiceError) => {
          assert.equal(e.code, status.PERMISSION_DENIED);
          assert.match(e.details, /authorizeStatus failed/);
          return true;
        });
      } finally {
        csds.close();
        await h.close();
      }
    }
  });

  it('L6: a server without any authorization keeps CSDS open', async () => {
    const h = await start();
    const csds = csdsClient(h.address);
    try {
      const client = h.client({ node: 'n1' });
      client.subscribe(Cluster, []);
      await client.next(Cluster);
      const response = await csds.fetch(forNodes('n1'));
      assert.equal(response.config[0]?.node?.id, 'n1');
    } finally {
      csds.close();
      await h.close();
    }
  });
});

describe('CSDS node matchers run in RE2 (rule L3)', () => {
  it('L3: a regex that backtracks for minutes in JavaScript is answered, and a bystander is still served', async () => {
    const h = await start();
    const csds = csdsClient(h.address, 60_000);
    try {
      const longId = `node-${'a'.repeat(62)}`;
      assert.equal(longId.length, 67);
      h.cache.setSnapshot(longId, sample());
      const target = h.client({ node: longId });
      target.subscribe(Cluster, []);
      await target.next(Cluster);

      const evil = {
        nodeMatchers: [{ nodeId: { matchPattern: { case: 'safeRegex', value: { regex: '(.*)*Z' } } } }],
      };
      const response = await csds.fetch(evil as never);
      assert.equal(response.config.length, 0);
      const streamed = await csds.stream([evil as never, evil as never]);
      assert.deepEqual(
        streamed.map((r) => r.config.length),
        [0, 0],
      );
      // RE2 semantics: the regex must match the whole id.
      const whole = {
        nodeMatchers: [{ nodeId: { matchPattern: { case: 'safeRegex', value: { regex: 'node-a+' } } } }],
      };
      assert.deepEqual(
        (await csds.fetch(whole as never)).config.map((c) => c.node?.id),
        [longId],
      );

      const bystander = h.client({ node: 'n1' });
      bystander.subscribe(Cluster, []);
      assert.deepEqual((await bystander.next(Cluster)).names, ['c1', 'c2']);
    } finally {
      csds.close();
      await h.close();
    }
  });

  it('L3: a node matcher regex that RE2 rejects fails the request with INVALID_ARGUMENT naming it', async () => {
    const h = await start({ limits: { maxRegexBytes: 64, maxStatusMatchers: 3 } });
    const csds = csdsClient(h.address);
    const regex = (pattern: string) => ({
      nodeId: { matchPattern: { case: 'safeRegex' as const, value: { regex: pattern } } },
    });
    try {
      for (const [pattern, message] of [
        ['(?=a)b', /node_matchers\[0\]\.node_id\.safe_regex: "\(\?=a\)b" is not an RE2 regex/],
        ['(a)\\1', /is not an RE2 regex/],
        ['x'.repeat(65), /65 bytes, more than limits\.maxRegexBytes \(64\)/],
      ] as const) {
        await assert.rejects(csds.fetch({ nodeMatchers: [regex(pattern)] }), (e: ServiceError) => {
          assert.equal(e.code, status.INVALID_ARGUMENT, pattern);
          assert.match(e.details, message);
          return true;
        });
      }
      await assert.rejects(csds.stream([{ nodeMatchers: [regex('(?!a)')] }]), (e: ServiceError) => {
        assert.equal(e.code, status.INVALID_ARGUMENT);
        return true;
      });
      await assert.rejects(csds.fetch(forNodes('a', 'b', 'c', 'd')), (e: ServiceError) => {
        assert.equal(e.code, status.INVALID_ARGUMENT);
        assert.match(e.details, /4 node matchers, more than limits\.maxStatusMatchers \(3\)/);
        return true;
      });
      // The server still answers good requests.
      assert.equal((await csds.fetch(forNodes('n1'))).config.length, 0);
    } finally {
      csds.close();
      await h.close();
    }
  });
});

describe('CSDS redaction (rule L6)', () => {
  it('L6: a CSDS answer carries no byte of a private key served to a node, and keeps what is not secret', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const key = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const chain = '-----BEGIN CERTIFICATE-----\nMIIBpublicchainpublicchain\n-----END CERTIFICATE-----\n';
    const tls = create(UpstreamTlsContextSchema, {
      commonTlsContext: {
        tlsCertificates: [
          {
            certificateChain: { specifier: { case: 'inlineString', value: chain } },
            privateKey: { specifier: { case: 'inlineString', value: key } },
          },
        ],
      },
    });
    const tlsCluster = create(ClusterSchema, {
      name: 'tls-backend',
      transportSocket: {
        name: 'envoy.transport_sockets.tls',
        configType: { case: 'typedConfig', value: anyPack(UpstreamTlsContextSchema, tls) },
      },
    });
    const snapshot = Snapshot.create([
      makeSecret('server-cert', { certificateChain: chain, privateKey: key }),
      tlsCluster,
    ]);
    const h = await start({}, {}, snapshot);
    const csds = csdsClient(h.address);
    try {
      const client = h.client({ node: 'n1' });
      client.subscribe(TypeUrl.Secret, ['server-cert']);
      client.subscribe(Cluster, []);
      await client.next(TypeUrl.Secret);
      const served = client.resources(TypeUrl.Secret).get('server-cert');
      assert.ok(holdsKey(toBinary(SecretSchema, served as Secret), key), 'the node itself gets its key');
      await client.next(Cluster);
      await nextEvent(h.server, 'ack', (e) => e.typeUrl === Cluster);

      for (const response of [await csds.fetch(forNodes('n1')), ...(await csds.stream([forNodes('n1')]))]) {
        assert.equal(holdsKey(toBinary(ClientStatusResponseSchema, response), key), false);
        const configs = response.config[0]!.genericXdsConfigs;
        const secret = anyUnpack(configs.find((c) => c.name === 'server-cert')!.xdsConfig!, SecretSchema)!;
        assert.equal(secret.type.case, 'tlsCertificate');
        const cert = secret.type.value as TlsCertificate;
        assert.deepEqual(cert.privateKey?.specifier, { case: 'inlineString', value: REDACTED });
        assert.deepEqual(cert.certificateChain?.specifier, { case: 'inlineString', value: chain });
        const cluster = anyUnpack(configs.find((c) => c.name === 'tls-backend')!.xdsConfig!, ClusterSchema)!;
        assert.equal(cluster.transportSocket?.name, 'envoy.transport_sockets.tls');
      }
    } finally {
      csds.close();
      await h.close();
    }
  });
});

/** True when `bytes` hold any 8 consecutive characters of the key's PEM body. */
function holdsKey(bytes: Uint8Array, pem: string): boolean {
  const body = pem
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('-----'))
    .join('\n');
  const haystack = Buffer.from(bytes);
  for (let i = 0; i + 8 <= body.length; i++) if (haystack.includes(body.slice(i, i + 8))) return true;
  return false;
}
