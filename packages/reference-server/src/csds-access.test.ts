// Rule L6 for xds-server (probe4 F6): without --trust-domain, CSDS goes to whom --csds says: loopback peers by
// default, anyone with `open`, no one with `off`; with --trust-domain the node identity rule refuses it and --csds is
// not accepted. Over the in-process reference server and a real grpc-js client on 127.0.0.1.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  credentials,
  Metadata,
  makeGenericClientConstructor,
  type ServiceError,
  status,
} from '@grpc/grpc-js';
import {
  ClientStatusDiscoveryService,
  type ClientStatusRequest,
  ClientStatusRequestSchema,
  type ClientStatusResponse,
  ClientStatusResponseSchema,
  Code,
  methodPath,
  XdsError,
} from '@xds/api';
import type { ServerCall } from '@xds/server';
import { parseCommandLine } from './cli.js';
import { csdsAccess, peerHost } from './csds-access.js';
import { createLogger } from './logger.js';
import { type ReferenceServer, startReferenceServer } from './reference-server.js';
import { memoryLog } from './test-support.js';

const fetchPath = methodPath(ClientStatusDiscoveryService.methods.find((m) => m.methodKind === 'unary')!);

/** One FetchClientStatus for every node; resolves with the answer or the call's error. */
function fetchStatus(address: string, authorization?: string): Promise<ClientStatusResponse | ServiceError> {
  const Client = makeGenericClientConstructor({}, 'Csds');
  const client = new Client(address, credentials.createInsecure());
  const metadata = new Metadata();
  if (authorization !== undefined) metadata.set('authorization', authorization);
  return new Promise<ClientStatusResponse | ServiceError>((resolve) => {
    client.makeUnaryRequest(
      fetchPath,
      (r: ClientStatusRequest) => Buffer.from(toBinary(ClientStatusRequestSchema, r)),
      (b: Buffer) => fromBinary(ClientStatusResponseSchema, b),
      create(ClientStatusRequestSchema, {}),
      metadata,
      { deadline: Date.now() + 30_000 },
      (error: ServiceError | null, value?: ClientStatusResponse) => resolve(error ?? value!),
    );
  }).finally(() => client.close());
}

async function withServer(
  csds: 'loopback' | 'open' | 'off' | undefined,
  body: (server: ReferenceServer) => Promise<void>,
  adminTokenFile?: string,
) {
  const server = await startReferenceServer({
    xds: '127.0.0.1:0',
    admin: '127.0.0.1:0',
    logger: createLogger('warn', memoryLog().stream),
    closeGraceMs: 1000,
    ...(csds === undefined ? {} : { csds }),
    ...(adminTokenFile === undefined ? {} : { adminTokenFile }),
  });
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

describe('xds-server --csds (rule L6)', () => {
  it('L6: --csds takes loopback (the default), open or off, and refuses anything else or --trust-domain', () => {
    const run = (args: string[]) => {
      const parsed = parseCommandLine(args);
      return parsed.kind === 'run' ? parsed.options.csds : parsed;
    };
    assert.equal(run([]), 'loopback');
    assert.equal(run(['--csds', 'off']), 'off');
    assert.equal(run(['--csds', 'open']), 'open');
    const bad = parseCommandLine(['--csds', 'everyone']);
    assert.equal(bad.kind, 'usage-error');
    assert.match('message' in bad ? bad.message : '', /--csds: "everyone" is not one of loopback, open, off/);
    const withIdentity = parseCommandLine([
      '--csds',
      'loopback',
      '--trust-domain',
      'cluster.local',
      '--tls-cert',
      'c.pem',
      '--tls-key',
      'k.pem',
      '--tls-client-ca',
      'ca.pem',
    ]);
    assert.equal(withIdentity.kind, 'usage-error');
    assert.match('message' in withIdentity ? withIdentity.message : '', /--csds: with --trust-domain/);
  });

  it('L6: by default a loopback peer reads CSDS; with off, no one does (PERMISSION_DENIED naming --csds off)', async () => {
    await withServer(undefined, async (server) => {
      const answer = await fetchStatus(server.xdsAddress);
      assert.ok(!(answer instanceof Error), String(answer));
    });
    await withServer('off', async (server) => {
      const answer = await fetchStatus(server.xdsAddress);
      assert.ok(answer instanceof Error);
      assert.equal((answer as ServiceError).code, status.PERMISSION_DENIED);
      assert.match((answer as ServiceError).details, /CSDS\) is off on this server \(--csds off\)/);
    });
  });

  it('L6: with --admin-token-file, CSDS needs the token too (UNAUTHENTICATED without it), in loopback and open', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'csds-token-'));
    const token = 'a-token-of-24-characters';
    const file = join(dir, 'token');
    writeFileSync(file, `${token}\n`);
    try {
      for (const mode of ['loopback', 'open'] as const) {
        await withServer(
          mode,
          async (server) => {
            for (const header of [undefined, 'Bearer not-the-token-at-all', `Basic ${token}`]) {
              const refused = await fetchStatus(server.xdsAddress, header);
              assert.ok(refused instanceof Error, `${mode}, ${header}: refused`);
              assert.equal((refused as ServiceError).code, status.UNAUTHENTICATED);
              assert.match((refused as ServiceError).details, /needs the admin token \(--admin-token-file\)/);
            }
            const answer = await fetchStatus(server.xdsAddress, `Bearer ${token}`);
            assert.ok(!(answer instanceof Error), `${mode}: ${String(answer)}`);
          },
          file,
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('L6: --csds loopback grants 127.0.0.0/8 and ::1 peers only; open has no hook', () => {
    const hook = csdsAccess('loopback')!;
    const request = create(ClientStatusRequestSchema, {});
    const call = (peer: string) => ({ getPeer: () => peer }) as unknown as ServerCall;
    for (const peer of ['127.0.0.1:5000', '127.3.4.5:1', '[::1]:5000', '::1:5000', '[::ffff:127.0.0.1]:80'])
      assert.equal(hook(request, call(peer)), true, peer);
    for (const peer of ['10.0.0.1:5000', '[2001:db8::1]:443', '192.168.1.1:1', '[::]:1']) {
      assert.throws(
        () => hook(request, call(peer)),
        (e: XdsError) =>
          e instanceof XdsError && e.code === Code.PermissionDenied && /loopback peers only/.test(e.message),
        peer,
      );
    }
    assert.equal(peerHost('[::1]:5'), '::1');
    assert.equal(csdsAccess('open'), undefined);
  });
});
