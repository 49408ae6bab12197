// Fetch and REST are seen like streams: the same 'request' and 'response' events, and the same hooks, which may
// refuse the call with their status.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { Code, discoveryMethods, TypeUrl, XdsError } from '@xds/api';
import type { RequestEvent, ResponseEvent } from './events.js';
import type { HookKind } from './hooks.js';
import { callAs, postJson } from './test-calls.js';
import { start } from './test-harness.js';

const { Cluster } = TypeUrl;
const fetchClusters = discoveryMethods.find((m) => m.kind === 'fetch' && m.typeUrl === Cluster)!;

describe('Fetch and REST events and hooks', () => {
  it('S1: Fetch and REST emit the request and response events that streams emit, and run onRequest and onResponse', async () => {
    const kinds: HookKind[] = [];
    const h = await start({
      hooks: {
        onRequest: async (_request, ctx) => {
          kinds.push(ctx.kind);
        },
        onResponse: (response, ctx) => {
          kinds.push(ctx.kind);
          assert.deepEqual([...response.resources].sort(), ['c1', 'c2']);
        },
      },
    });
    const requests: RequestEvent[] = [];
    const responses: ResponseEvent[] = [];
    h.server.on('request', (e) => requests.push(e));
    h.server.on('response', (e) => responses.push(e));
    try {
      const fetched = await callAs(h.address, fetchClusters, 'n1');
      assert.equal(fetched.code, status.OK, fetched.details);
      const port = await h.server.listenRest('127.0.0.1:0');
      const rest = await postJson(port, '/v3/discovery:clusters', '{"node":{"id":"n1"}}');
      assert.equal(rest.status, 200);
      assert.deepEqual(kinds, ['fetch', 'fetch', 'rest', 'rest']);
      assert.deepEqual(
        requests.map((e) => [e.nodeId, e.typeUrl, e.initial]),
        [
          ['n1', Cluster, true],
          ['n1', Cluster, true],
        ],
      );
      assert.equal(responses.length, 2);
      for (const e of responses) {
        assert.equal(e.typeUrl, Cluster);
        assert.deepEqual([...e.resources].sort(), ['c1', 'c2']);
        assert.ok(e.bytes > 0);
        assert.equal(e.version, h.cache.getSnapshot('n1')!.version(Cluster));
      }
      assert.notEqual(responses[0]!.streamId, responses[1]!.streamId, 'each call has its own id');
    } finally {
      await h.close();
    }
  });

  it('L4: onRequest and onResponse refuse a Fetch or REST call with their status; a plain Error is INTERNAL', async () => {
    const h = await start({
      hooks: {
        onRequest: (request) => {
          if (request.node?.id === 'refused') throw new XdsError(Code.PermissionDenied, 'not this node');
        },
        onResponse: (_response, ctx) => {
          if (ctx.nodeId === 'n1') throw new Error('hook bug');
        },
      },
    });
    h.cache.setSnapshot('refused', h.cache.getSnapshot('n1')!);
    try {
      const refused = await callAs(h.address, fetchClusters, 'refused');
      assert.deepEqual([refused.code, refused.details], [status.PERMISSION_DENIED, 'not this node']);
      const failed = await callAs(h.address, fetchClusters, 'n1');
      assert.deepEqual([failed.code, failed.details], [status.INTERNAL, 'the onResponse hook failed']);
      const port = await h.server.listenRest('127.0.0.1:0');
      assert.equal((await postJson(port, '/v3/discovery:clusters', '{"node":{"id":"refused"}}')).status, 403);
      const rest = await postJson(port, '/v3/discovery:clusters', '{"node":{"id":"n1"}}');
      assert.equal(rest.status, 500);
      assert.match(rest.body, /the onResponse hook failed/);
    } finally {
      await h.close();
    }
  });
});
