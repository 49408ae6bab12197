// Rule L2 for REST xDS: a node sent as proto3 JSON is held to the node limits a gRPC request's node is held to
// (maxNodeListEntries, maxNodeMetadataDepth, maxNodeBytes), and a body's JSON nesting is bounded before it is
// parsed; each refusal is a 400 naming the limit, and the listener serves on. Over a real REST listener.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { create, type JsonValue, toJson } from '@bufbuild/protobuf';
import { NodeSchema } from '@xds/api';
import { type Harness, start } from './test-harness.js';
import { nodeWithFeatures, twoLevelMetadata } from './test-node-cases.js';
import { envoyNode, istioNode, nestedMetadata } from './test-nodes.js';

const clusters = '/v3/discovery:clusters';

describe('L2: REST node limits', () => {
  const harnesses: Harness[] = [];
  after(() => Promise.all(harnesses.map((h) => h.close())));

  async function server(limits: Record<string, number> = {}): Promise<number> {
    const h = await start({ limits });
    harnesses.push(h);
    return h.server.listenRest('127.0.0.1:0');
  }

  /** POSTs a body; resolves with the status and the answer's message. */
  async function postBody(port: number, body: string): Promise<{ status: number; message: string }> {
    const answer = await fetch(`http://127.0.0.1:${port}${clusters}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const text = await answer.text();
    const json = answer.status === 200 ? {} : (JSON.parse(text) as { message?: string });
    return { status: answer.status, message: json.message ?? '' };
  }

  /** POSTs a request with this node. */
  const post = (port: number, node: JsonValue) => postBody(port, JSON.stringify({ node }));

  /** A node the listener serves: it still answers after a refusal. */
  async function served(port: number): Promise<void> {
    assert.equal((await post(port, { id: 'n1' })).status, 200);
  }

  it('L2: real nodes pass the default limits over REST: an Envoy with 600 extensions, an Istio sidecar', async () => {
    const port = await server();
    for (const node of [envoyNode('n1'), istioNode('n1')])
      assert.equal((await post(port, toJson(NodeSchema, create(NodeSchema, node)))).status, 200);
  });

  it('L2: a JSON node whose metadata nests past limits.maxNodeMetadataDepth (16) is a 400 naming it', async () => {
    const port = await server();
    for (const metadata of [nestedMetadata(17, 'struct'), nestedMetadata(17, 'list')]) {
      const answer = await post(port, { id: 'n1', metadata });
      assert.equal(answer.status, 400);
      assert.match(
        answer.message,
        /node nests Struct and ListValue values deeper than limits\.maxNodeMetadataDepth \(16\)/,
      );
    }
    assert.equal((await post(port, { id: 'n1', metadata: nestedMetadata(16, 'struct') })).status, 200);
    await served(port);
  });

  it('L2: entries of a JSON node field past limits.maxNodeListEntries are a 400 naming it, Struct entries counted across levels', async () => {
    const port = await server({ maxNodeListEntries: 100 });
    const features = nodeWithFeatures(101);
    let answer = await post(port, features);
    assert.equal(answer.status, 400);
    assert.match(
      answer.message,
      /node has more than limits\.maxNodeListEntries \(100\) entries of envoy\.config\.core\.v3\.Node\.client_features/,
    );
    // 60 keys at the top of the metadata and 60 one level down: 120 Struct entries in all.
    const metadata = twoLevelMetadata(60);
    answer = await post(port, { id: 'n1', metadata });
    assert.equal(answer.status, 400);
    assert.match(answer.message, /\(100\) entries of google\.protobuf\.Struct\.fields/);
    // By proto name too (proto3 JSON readers accept both).
    answer = await post(port, { id: 'n1', client_features: features.clientFeatures });
    assert.match(answer.message, /Node\.client_features/);
    await served(port);
  });

  it('L2: a JSON node over limits.maxNodeBytes (counted as protobuf) is a 400 naming it', async () => {
    const port = await server({ maxNodeBytes: 4096 });
    const answer = await post(port, { id: 'n1', cluster: 'c'.repeat(5000) });
    assert.equal(answer.status, 400);
    assert.match(
      answer.message,
      /node is 50\d\d bytes \(as protobuf\), more than limits\.maxNodeBytes \(4096\)/,
    );
    await served(port);
  });

  it('L2: a body nesting JSON deeper than limits.maxNodeMetadataDepth + 16 is refused before it is parsed', async () => {
    const port = await server();
    // 5,000 levels: protobuf-es reads them (its JSON reader has no depth bound); never parsed now.
    const levels = 5000;
    const deep = `{"node":{"id":"n1","metadata":{"a":${'['.repeat(levels)}1${']'.repeat(levels)}}}}`;
    const answer = await postBody(port, deep);
    assert.equal(answer.status, 400);
    assert.match(
      answer.message,
      /body nests JSON deeper than 32 levels \(limits\.maxNodeMetadataDepth \+ 16\)/,
    );
    // Brackets inside strings are text, not levels.
    assert.equal((await post(port, { id: 'n1', cluster: '['.repeat(100) })).status, 200);
    await served(port);
  });
});
