// Rule L6: an authorization hook that fails means the same on every service of the port.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ServiceError, status } from '@grpc/grpc-js';
import { Code, discoveryMethods, TypeUrl, XdsError } from '@xds/api';
import { callAs, postJson } from './test-calls.js';
import { csdsClient } from './test-csds-client.js';
import { start } from './test-harness.js';

const { Cluster } = TypeUrl;
const ads = discoveryMethods.filter((m) => m.typeUrl === undefined);
const fetches = discoveryMethods.filter((m) => m.kind === 'fetch' && m.typeUrl === Cluster);
const methods = [...ads, ...fetches];

describe('a failing authorization hook (rule L6)', () => {
  for (const [how, hook] of [
    [
      'throws',
      () => {
        throw new Error('directory lookup failed');
      },
    ],
    ['rejects', () => Promise.reject(new Error('directory lookup failed'))],
  ] as const) {
    it(`L6: authorize that ${how} a plain Error refuses with PERMISSION_DENIED on SotW, delta, Fetch and REST, and logs it`, async () => {
      const logged: unknown[] = [];
      const logger = {
        error: (fields: unknown) => logged.push(fields),
        warn: () => {},
        info: () => {},
        debug: () => {},
      };
      const h = await start({ authorize: hook, logger });
      try {
        for (const method of methods) {
          const end = await callAs(h.address, method, 'n1');
          assert.equal(end.code, status.PERMISSION_DENIED, `${method.path}: ${end.details}`);
          assert.match(end.details, /may not .*: authorize failed$/, method.path);
          assert.doesNotMatch(end.details, /directory lookup/, 'the error stays in the log');
        }
        const port = await h.server.listenRest('127.0.0.1:0');
        const rest = await postJson(port, '/v3/discovery:clusters', '{"node":{"id":"n1"}}');
        assert.equal(rest.status, 403);
        assert.match(rest.body, /authorize failed/);
        assert.ok(logged.length >= methods.length + 1, `logged ${logged.length}`);
      } finally {
        await h.close();
      }
    });
  }

  it('L6: authorize that throws an XdsError keeps its code and message on SotW, delta, Fetch, REST and CSDS', async () => {
    const h = await start({
      authorize: () => {
        throw new XdsError(Code.Unavailable, 'the policy service is down');
      },
      authorizeStatus: async () => {
        throw new XdsError(Code.Unavailable, 'the policy service is down');
      },
    });
    const csds = csdsClient(h.address);
    try {
      for (const method of methods) {
        const end = await callAs(h.address, method, 'n1');
        assert.equal(end.code, status.UNAVAILABLE, method.path);
        assert.equal(end.details, 'the policy service is down');
      }
      const port = await h.server.listenRest('127.0.0.1:0');
      const rest = await postJson(port, '/v3/discovery:clusters', '{"node":{"id":"n1"}}');
      assert.equal(rest.status, 503);
      await assert.rejects(csds.fetch({}), (e: ServiceError) => {
        assert.equal(e.code, status.UNAVAILABLE);
        return true;
      });
    } finally {
      csds.close();
      await h.close();
    }
  });

  it('L2, L6: authorize and authorizeStatus that never settle end with UNAVAILABLE naming limits.hookTimeoutMs', async () => {
    const never = () => new Promise<boolean>(() => {});
    const h = await start({ authorize: never, authorizeStatus: never, limits: { hookTimeoutMs: 200 } });
    const csds = csdsClient(h.address);
    try {
      for (const method of methods) {
        const end = await callAs(h.address, method, 'n1');
        assert.equal(end.code, status.UNAVAILABLE, `${method.path}: ${end.details}`);
        assert.equal(
          end.details,
          'authorize did not settle within limits.hookTimeoutMs (200 ms)',
          method.path,
        );
      }
      const port = await h.server.listenRest('127.0.0.1:0');
      const rest = await postJson(port, '/v3/discovery:clusters', '{"node":{"id":"n1"}}');
      assert.equal(rest.status, 503);
      assert.match(rest.body, /authorize did not settle within limits\.hookTimeoutMs/);
      await assert.rejects(csds.fetch({}), (e: ServiceError) => {
        assert.equal(e.code, status.UNAVAILABLE);
        assert.match(e.details, /authorizeStatus did not settle within limits\.hookTimeoutMs \(200 ms\)/);
        return true;
      });
      assert.ok((h.server.streamStats().endedByLimit.hookTimeoutMs ?? 0) >= methods.length + 2);
    } finally {
      csds.close();
      await h.close();
    }
  });
});
