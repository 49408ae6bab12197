// CSDS node matchers' node_metadatas (rules S5, L2, L3): a node matches a matcher when its id and every one of its
// StructMatchers match, as in Envoy's NodeMatcher; regexes run in RE2 and are counted against
// limits.maxStatusMatchers, list/or nesting is bounded by limits.maxNodeMetadataDepth. Over a real grpc-js server
// and real xDS clients whose nodes carry metadata.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ServiceError } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { TypeUrl } from '@xds/api';
import { csdsClient } from './test-csds-client.js';
import { type Harness, sample, start } from './test-harness.js';

type Request = Parameters<ReturnType<typeof csdsClient>['fetch']>[0];
type Value = NonNullable<NonNullable<NonNullable<Request>['nodeMatchers']>[number]['nodeMetadatas']>;

/** A StructMatcher on `path` with a ValueMatcher. */
const at = (path: string[], value: unknown) =>
  ({ path: path.map((key) => ({ segment: { case: 'key', value: key } })), value }) as never;
const str = (exact: string) => ({
  matchPattern: { case: 'stringMatch', value: { matchPattern: { case: 'exact', value: exact } } },
});
const regex = (re: string) => ({
  matchPattern: { case: 'stringMatch', value: { matchPattern: { case: 'safeRegex', value: { regex: re } } } },
});
const ids = (answer: { config: { node?: { id: string } | undefined }[] }) =>
  answer.config.map((c) => c.node?.id ?? '').sort();

describe('CSDS node_metadatas (rules S5, L3)', () => {
  let h: Harness;
  let csds: ReturnType<typeof csdsClient>;
  const ask = (nodeMetadatas: Value, nodeId?: string) =>
    csds.fetch({
      nodeMatchers: [
        {
          ...(nodeId === undefined ? {} : { nodeId: { matchPattern: { case: 'exact', value: nodeId } } }),
          nodeMetadatas,
        },
      ],
    });

  before(async () => {
    h = await start();
    csds = csdsClient(h.address, 30_000);
    const nodes = {
      'web-1': {
        NAMESPACE: 'web',
        LABELS: { app: 'web', version: 'v1' },
        REPLICAS: 3,
        CANARY: true,
        TAGS: ['a', 'b'],
        NOTE: null,
      },
      'web-2': {
        NAMESPACE: 'web',
        LABELS: { app: 'web', version: 'v2' },
        REPLICAS: 5,
        CANARY: false,
        TAGS: ['c'],
      },
      'db-1': { NAMESPACE: 'db', LABELS: { app: 'db' } },
    };
    for (const [id, metadata] of Object.entries(nodes)) {
      h.cache.setSnapshot(id, sample());
      const client = h.client({ node: { id, metadata } as never, timeoutMs: 30_000 });
      client.subscribe(TypeUrl.Cluster, []);
      await client.next(TypeUrl.Cluster, { timeoutMs: 30_000 });
    }
  });
  after(async () => {
    csds.close();
    await h.close();
  });

  it('S5: every node_metadatas entry must match (AND), beside the node id', async () => {
    assert.deepEqual(ids(await ask([at(['NAMESPACE'], str('web'))])), ['web-1', 'web-2']);
    assert.deepEqual(ids(await ask([at(['NAMESPACE'], str('web')), at(['LABELS', 'version'], str('v2'))])), [
      'web-2',
    ]);
    assert.deepEqual(ids(await ask([at(['NAMESPACE'], str('web'))], 'web-1')), ['web-1']);
    assert.deepEqual(ids(await ask([at(['NAMESPACE'], str('web'))], 'db-1')), []);
    // A path through a value that is not a Struct, or to a key that is not there, finds nothing.
    assert.deepEqual(ids(await ask([at(['NAMESPACE', 'x'], str('web'))])), []);
    // Matchers are ORed: each matcher on its own.
    const either = await csds.fetch({
      nodeMatchers: [
        { nodeMetadatas: [at(['NAMESPACE'], str('db'))] },
        { nodeId: { matchPattern: { case: 'exact', value: 'web-2' } } },
      ],
    });
    assert.deepEqual(ids(either), ['db-1', 'web-2']);
  });

  it('S5: each ValueMatcher kind: double (exact, range), bool, null, present, list, or, string regex (RE2)', async () => {
    const double = (exact: number) => ({
      matchPattern: { case: 'doubleMatch', value: { matchPattern: { case: 'exact', value: exact } } },
    });
    const range = (start: number, end: number) => ({
      matchPattern: {
        case: 'doubleMatch',
        value: { matchPattern: { case: 'range', value: { start, end } } },
      },
    });
    assert.deepEqual(ids(await ask([at(['REPLICAS'], double(3))])), ['web-1']);
    assert.deepEqual(ids(await ask([at(['REPLICAS'], range(3, 5))])), ['web-1']);
    assert.deepEqual(
      ids(await ask([at(['CANARY'], { matchPattern: { case: 'boolMatch', value: false } })])),
      ['web-2'],
    );
    assert.deepEqual(ids(await ask([at(['NOTE'], { matchPattern: { case: 'nullMatch', value: {} } })])), [
      'web-1',
    ]);
    const present = (value: boolean) => ({ matchPattern: { case: 'presentMatch', value } });
    assert.deepEqual(ids(await ask([at(['REPLICAS'], present(true))])), ['web-1', 'web-2']);
    assert.deepEqual(ids(await ask([at(['REPLICAS'], present(false))])), ['db-1']);
    // A Struct is not a primitive value: present_match never matches it.
    assert.deepEqual(ids(await ask([at(['LABELS'], present(true))])), []);
    const list = {
      matchPattern: { case: 'listMatch', value: { matchPattern: { case: 'oneOf', value: str('c') } } },
    };
    assert.deepEqual(ids(await ask([at(['TAGS'], list)])), ['web-2']);
    const or = { matchPattern: { case: 'orMatch', value: { valueMatchers: [str('db'), str('nothing')] } } };
    assert.deepEqual(ids(await ask([at(['NAMESPACE'], or)])), ['db-1']);
    assert.deepEqual(ids(await ask([at(['LABELS', 'version'], regex('v[0-9]+'))])), ['web-1', 'web-2']);
  });

  it('L3: a metadata regex RE2 rejects, or past maxRegexBytes, is INVALID_ARGUMENT naming the field', async () => {
    await assert.rejects(ask([at(['NAMESPACE'], regex('(?=web)web'))]), (e: ServiceError) => {
      assert.equal(e.code, status.INVALID_ARGUMENT);
      assert.match(
        e.details,
        /node_matchers\[0\]\.node_metadatas\[0\]\.value\.string_match\.safe_regex: .* is not an RE2 regex/,
      );
      return true;
    });
    await assert.rejects(ask([at(['NAMESPACE'], regex('a'.repeat(1100)))]), (e: ServiceError) => {
      assert.equal(e.code, status.INVALID_ARGUMENT);
      assert.match(e.details, /limits\.maxRegexBytes \(1024\)/);
      return true;
    });
  });

  it('L2: list/or nesting past maxNodeMetadataDepth, and regexes past maxStatusMatchers, are INVALID_ARGUMENT', async () => {
    let deep: unknown = str('web');
    for (let i = 0; i < 20; i++)
      deep = { matchPattern: { case: 'orMatch', value: { valueMatchers: [deep] } } };
    await assert.rejects(ask([at(['NAMESPACE'], deep)]), (e: ServiceError) => {
      assert.equal(e.code, status.INVALID_ARGUMENT);
      assert.match(e.details, /limits\.maxNodeMetadataDepth \(16\)/);
      return true;
    });
    const many = {
      matchPattern: {
        case: 'orMatch',
        value: { valueMatchers: Array.from({ length: 101 }, () => regex('w.b')) },
      },
    };
    await assert.rejects(ask([at(['NAMESPACE'], many)]), (e: ServiceError) => {
      assert.equal(e.code, status.INVALID_ARGUMENT);
      assert.match(e.details, /more than limits\.maxStatusMatchers \(100\) regexes/);
      return true;
    });
    // The server goes on answering.
    assert.deepEqual(ids(await ask([at(['NAMESPACE'], str('db'))])), ['db-1']);
  });
});
