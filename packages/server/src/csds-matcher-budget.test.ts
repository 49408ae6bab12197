// Rules L2 and L3 for the work of a CSDS request's node matchers (matcher-budget.ts; probe findings Q1 and Q7,
// review R11): bytes and nesting bounded the matchers, not width times data, so one request held the event loop for
// 12 s (1,480 list_matches x 100 matchers x a 9,000-value list) or 6 s (100 node-id regexes of 1,800 instructions).
// Now a request's value and string matchers are counted against limits.maxStatusMatcherNodes and its regex programs
// against maxStatusRegexProgramTotal before any runs (INVALID_ARGUMENT), and its matching against
// maxStatusMatchSteps (RESOURCE_EXHAUSTED). Over a real grpc-js server and real xDS clients whose nodes carry
// metadata; every refusal is asserted by status and message, and the server answers the next call.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ServiceError } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { TypeUrl } from '@xds/api';
import { csdsClient, forNodes } from './test-csds-client.js';
import { type Harness, sample, start } from './test-harness.js';

/** A StructMatcher on `path` with a ValueMatcher. */
const at = (path: string[], value: unknown) =>
  ({ path: path.map((key) => ({ segment: { case: 'key', value: key } })), value }) as never;
const string = (pattern: unknown, ignoreCase = false) => ({
  matchPattern: { case: 'stringMatch', value: { matchPattern: pattern, ignoreCase } },
});
const exact = (value: string) => string({ case: 'exact', value });
const list = (item: unknown) => ({
  matchPattern: { case: 'listMatch', value: { matchPattern: { case: 'oneOf', value: item } } },
});
const or = (matchers: unknown[]) => ({
  matchPattern: { case: 'orMatch', value: { valueMatchers: matchers } },
});
const regexId = (regex: string) =>
  ({ nodeId: { matchPattern: { case: 'safeRegex', value: { regex } } } }) as never;

const refused = (code: status, message: RegExp) => (e: ServiceError) => {
  assert.equal(e.code, code, e.details);
  assert.match(e.details, message);
  return true;
};

/** Starts a server and connects nodes with the given metadata, each with its snapshot acknowledged. */
async function withNodes(
  nodes: Record<string, unknown>,
  limits: Record<string, number> = {},
): Promise<{ h: Harness; csds: ReturnType<typeof csdsClient> }> {
  const h = await start({ limits });
  for (const [id, metadata] of Object.entries(nodes)) {
    h.cache.setSnapshot(id, sample());
    const client = h.client({ node: { id, metadata } as never, timeoutMs: 30_000 });
    client.subscribe(TypeUrl.Cluster, []);
    await client.next(TypeUrl.Cluster, { timeoutMs: 30_000 });
  }
  return { h, csds: csdsClient(h.address, 120_000) };
}

describe('L2, L3: the work of a CSDS request’s node matchers is bounded (probe Q1, Q7; review R11)', () => {
  let h: Harness;
  let csds: ReturnType<typeof csdsClient>;
  before(async () => {
    ({ h, csds } = await withNodes({
      // Probe Q1's node, smaller: a list at `k` (a 9,000-value one took 12 s against 100 such matchers).
      listy: { k: Array.from({ length: 5_000 }, (_, i) => i) },
      // Probe Q1's variant: one long string that every ignore_case leaf folded again.
      big: { k: 'A'.repeat(200_000) },
      plain: { app: 'web' },
    }));
  });
  after(async () => {
    csds.close();
    await h.close();
  });

  it('L2: probe Q1’s request (or_match of 1,480 list_matches) is refused naming maxStatusMatcherNodes, before any runs', async () => {
    const wide = at(['k'], or(Array.from({ length: 1_480 }, () => list(exact('z')))));
    const request = { nodeMatchers: [{ nodeMetadatas: [wide] }, { nodeMetadatas: [wide] }] };
    // 1,480 branches of one or_match: counted on the wire, before protobuf-es decodes them.
    await assert.rejects(
      csds.fetch(request),
      refused(
        status.RESOURCE_EXHAUSTED,
        /node_matchers has more than limits\.maxStatusMatcherNodes \(1000\) entries of envoy\.type\.matcher\.v3\.OrMatcher\.value_matchers/,
      ),
    );
    // Compiled matchers are counted too (a list_match and its item are two, a string_match's StringMatcher a third):
    // matchers of 150 list_matches (1 + 150 x 3 each) pass 1,000 in the third, before any runs.
    const some = at(['k'], or(Array.from({ length: 150 }, () => list(exact('z')))));
    await assert.rejects(
      csds.fetch({
        nodeMatchers: [{ nodeMetadatas: [some] }, { nodeMetadatas: [some] }, { nodeMetadatas: [some] }],
      }),
      refused(status.INVALID_ARGUMENT, /^node_matchers\[2\]\..*limits\.maxStatusMatcherNodes \(1000\)/),
    );
    // The server answers the next call.
    const answer = await csds.fetch({ nodeMatchers: [{ nodeMetadatas: [at(['app'], exact('web'))] }] });
    assert.deepEqual(
      answer.config.map((c) => c.node?.id),
      ['plain'],
    );
  });

  it('L2: matching past maxStatusMatchSteps (300 list_matches over a 5,000-value list) ends RESOURCE_EXHAUSTED naming it', async () => {
    // 3 matchers of 100 list_matches: 903 matcher nodes, within maxStatusMatcherNodes; 1,500,000 steps on `listy`.
    const hundred = at(['k'], or(Array.from({ length: 100 }, () => list(exact('z')))));
    const request = { nodeMatchers: Array.from({ length: 3 }, () => ({ nodeMetadatas: [hundred] })) };
    await assert.rejects(
      csds.fetch(request),
      refused(status.RESOURCE_EXHAUSTED, /more than limits\.maxStatusMatchSteps \(1000000\) steps/),
    );
    await assert.rejects(
      csds.stream([request]),
      refused(status.RESOURCE_EXHAUSTED, /limits\.maxStatusMatchSteps \(1000000\)/),
    );
    // One list_match over the same list is well within it, and finds the value.
    const one = await csds.fetch({ nodeMatchers: [{ nodeMetadatas: [at(['k'], list(exact('z')))] }] });
    assert.deepEqual(one.config, []);
    const found = {
      matchPattern: {
        case: 'listMatch',
        value: {
          matchPattern: {
            case: 'oneOf',
            value: {
              matchPattern: { case: 'doubleMatch', value: { matchPattern: { case: 'exact', value: 4_999 } } },
            },
          },
        },
      },
    };
    const answer = await csds.fetch({ nodeMatchers: [{ nodeMetadatas: [at(['k'], found)] }] });
    assert.deepEqual(
      answer.config.map((c) => c.node?.id),
      ['listy'],
    );
  });

  it('L2: string matchers count the characters they read: 400 ignore_case contains over a 200 KB value end RESOURCE_EXHAUSTED', async () => {
    const contains = at(
      ['k'],
      or(Array.from({ length: 400 }, () => string({ case: 'contains', value: 'zz' }, true))),
    );
    await assert.rejects(
      csds.fetch({ nodeMatchers: [{ nodeMetadatas: [contains] }] }),
      refused(status.RESOURCE_EXHAUSTED, /limits\.maxStatusMatchSteps \(1000000\)/),
    );
    // A few leaves over the same value are answered (and ignore_case matches).
    const few = at(
      ['k'],
      or([string({ case: 'contains', value: 'zz' }, true), string({ case: 'prefix', value: 'aaa' }, true)]),
    );
    const answer = await csds.fetch({ nodeMatchers: [{ nodeMetadatas: [few] }] });
    assert.deepEqual(
      answer.config.map((c) => c.node?.id),
      ['big'],
    );
  });

  it('L3: probe Q7’s node-id regexes: one past maxRegexProgramSize, and many past maxStatusRegexProgramTotal together, are INVALID_ARGUMENT', async () => {
    // Probe Q7's regex: 26 bytes, about 1,820 instructions (re2js built its automaton in 240-290 ms per request).
    await assert.rejects(
      csds.fetch({ nodeMatchers: [regexId('([ab]?){300}[ab]{300}|xN')] }),
      refused(
        status.INVALID_ARGUMENT,
        /node_matchers\[0\]\.node_id\.safe_regex: the regex may compile to \d+ instructions, more than limits\.maxRegexProgramSize \(200\)/,
      ),
    );
    // Each about 117 instructions, within maxRegexProgramSize: 100 of them pass 1,000 together at the ninth.
    const each = '([ab]?){16}[ab]{16}|xN';
    await assert.rejects(
      csds.fetch({ nodeMatchers: Array.from({ length: 100 }, () => regexId(each)) }),
      refused(
        status.INVALID_ARGUMENT,
        /^node_matchers\[8\]\.node_id\.safe_regex: the request's regexes may compile to \d+ instructions together, more than limits\.maxStatusRegexProgramTotal \(1000\)/,
      ),
    );
    // Node-id and metadata regexes count together.
    const metadataRegex = at(['app'], string({ case: 'safeRegex', value: { regex: each } }));
    await assert.rejects(
      csds.fetch({
        nodeMatchers: [
          ...Array.from({ length: 7 }, () => regexId(each)),
          { nodeMetadatas: [metadataRegex, metadataRegex] },
        ],
      }),
      refused(
        status.INVALID_ARGUMENT,
        /^node_matchers\[7\]\.node_metadatas\[1\].*maxStatusRegexProgramTotal \(1000\)/,
      ),
    );
    // Within both, the regexes are answered.
    const answer = await csds.fetch({ nodeMatchers: [regexId('pl.*'), regexId('li[a-z]+')] });
    assert.deepEqual(answer.config.map((c) => c.node?.id).sort(), ['listy', 'plain']);
  });
});

describe('L2: the matcher limits are the server’s limits', () => {
  it('L2: limits.maxStatusMatcherNodes, maxStatusRegexProgramTotal and maxStatusMatchSteps given to the server are the ones held', async () => {
    const { h, csds } = await withNodes(
      { listy: { k: Array.from({ length: 100 }, (_, i) => i) } },
      { maxStatusMatcherNodes: 5, maxStatusRegexProgramTotal: 20, maxStatusMatchSteps: 50 },
    );
    try {
      const six = at(
        ['k'],
        or(Array.from({ length: 5 }, () => ({ matchPattern: { case: 'nullMatch', value: {} } }))),
      );
      await assert.rejects(
        csds.fetch({ nodeMatchers: [{ nodeMetadatas: [six] }] }),
        refused(status.INVALID_ARGUMENT, /limits\.maxStatusMatcherNodes \(5\)/),
      );
      await assert.rejects(
        csds.fetch({ nodeMatchers: [regexId('node-[0-9]+'), regexId('node-[a-z]+')] }),
        refused(status.INVALID_ARGUMENT, /^node_matchers\[1\].*limits\.maxStatusRegexProgramTotal \(20\)/),
      );
      await assert.rejects(
        csds.fetch({ nodeMatchers: [{ nodeMetadatas: [at(['k'], list(exact('z')))] }] }),
        refused(status.RESOURCE_EXHAUSTED, /limits\.maxStatusMatchSteps \(50\)/),
      );
      // A node id matcher alone costs no metadata steps.
      const answer = await csds.fetch(forNodes('listy'));
      assert.deepEqual(
        answer.config.map((c) => c.node?.id),
        ['listy'],
      );
    } finally {
      csds.close();
      await h.close();
    }
  });
});
