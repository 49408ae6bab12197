// Rule L6 for xds-relay (probe5 P8): without client certificates the relay has no identity to decide CSDS by, and
// CSDS shows every downstream node's id, metadata and configuration; it is served to loopback peers only, as
// `xds-server --csds loopback` (its default) does. With client certificates it is refused to everyone (identity.test.ts,
// security.test.ts). The hook is the one the relay process installs; peers off loopback cannot be made on 127.0.0.0/8,
// so it is called with their grpc-js peer strings.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code, XdsError } from '@xds/api';
import type { ServerCall } from '@xds/server';
import { relayUsage } from './cli.js';
import { relayIdentityOptions, relayStatusRefusal } from './relay-identity.js';

const call = (peer: string) => ({ getPeer: () => peer }) as unknown as ServerCall;
const refused = (e: unknown) => e instanceof XdsError && e.code === Code.PermissionDenied;

describe('xds-relay CSDS access', () => {
  it('L6: without client certificates, CSDS is served to loopback peers only (PERMISSION_DENIED naming the rule)', async () => {
    const hook = relayIdentityOptions(undefined, false).authorizeStatus;
    assert.ok(hook, 'a plaintext relay has a CSDS hook');
    for (const peer of ['127.0.0.1:40000', '127.0.0.2:5', '[::1]:5', '::ffff:127.0.0.1:5'])
      assert.equal(await hook({} as never, call(peer)), true, peer);
    for (const peer of ['10.0.0.7:40000', '192.168.1.2:5', '[2001:db8::1]:5']) {
      await assert.rejects(
        async () => hook({} as never, call(peer)),
        (e: unknown) => refused(e) && /loopback peers only/.test((e as Error).message),
        peer,
      );
    }
    // --help says so too (review11 F15: it told only of the refusal under --tls-client-ca).
    assert.match(
      relayUsage.replace(/\s+/g, ' '),
      /Without it, CSDS on the xDS port answers loopback peers \(127\.0\.0\.0\/8, ::1\) only/,
    );
  });

  it('L6: with --admin-token-file, a loopback CSDS call must carry the token too (UNAUTHENTICATED without it; probe7 N2)', async () => {
    const token = 'a-token-of-24-characters';
    const hook = relayIdentityOptions(undefined, false, token).authorizeStatus;
    assert.ok(hook);
    const withHeader = (header: string | undefined) =>
      ({
        getPeer: () => '127.0.0.1:5',
        metadata: { get: (key: string) => (key === 'authorization' && header !== undefined ? [header] : []) },
      }) as unknown as ServerCall;
    for (const header of [undefined, 'Bearer wrong-token-of-24-chars', `Basic ${token}`]) {
      await assert.rejects(
        async () => hook({} as never, withHeader(header)),
        (e: unknown) =>
          e instanceof XdsError && e.code === Code.Unauthenticated && /needs the admin token/.test(e.message),
        String(header),
      );
    }
    assert.equal(await hook({} as never, withHeader(`Bearer ${token}`)), true);
    // Off loopback, the token does not help: the loopback rule holds first.
    await assert.rejects(async () =>
      hook(
        {} as never,
        { ...withHeader(`Bearer ${token}`), getPeer: () => '10.0.0.7:5' } as unknown as ServerCall,
      ),
    );
  });

  it('L6: with client certificates, CSDS is refused to every peer, loopback included', async () => {
    const hook = relayIdentityOptions(undefined, true).authorizeStatus;
    assert.ok(hook);
    await assert.rejects(
      async () => hook({} as never, call('127.0.0.1:5')),
      (e: unknown) => refused(e) && (e as Error).message.includes(relayStatusRefusal),
    );
  });
});
