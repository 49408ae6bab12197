// Rule L1 with the node and CSDS bounds of rule L2: with limits no request reaches, the server's deserializers
// agree with protobuf-es on requests with random and damaged nodes and CSDS matchers; with tight limits, what passes
// a limit is refused naming it, and what passes is what protobuf-es reads. The discovery streams' deserializers,
// which leave the node on the wire for the stream to decode from its first request only (request-node.ts, S2),
// agree too: a first request's node decodes as protobuf-es decodes it, a later one's is its id. Seeded as
// test-agree.ts says.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DescMessage, equals, fromBinary, type JsonValue, type MessageShape } from '@bufbuild/protobuf';
import {
  ClientStatusRequestSchema,
  DeltaDiscoveryRequestSchema,
  DiscoveryRequestSchema,
  type Node,
} from '@xds/api';
import { requestDecoder, UndecodableRequest } from './codec.js';
import { defaultLimits, type ResolvedLimits } from './limits.js';
import { withFirstNode } from './request-node.js';
import { sotwRequestDecoder } from './sotw-request.js';
import { agree, budgetMs, cases, type Decoder, notCanonical, outcomes, seed, trimmed } from './test-agree.js';
import { randomNodeRequest, randomStatusRequest } from './test-random-nodes.js';
import { deltaShape, Random, sotwShape } from './test-wire.js';

/** Limits no random request reaches: the pass must then agree with protobuf-es (rule L1). */
const open: ResolvedLimits = {
  ...defaultLimits,
  maxNodeBytes: 2 ** 30,
  maxNodeListEntries: 2 ** 30,
  maxNodeMetadataDepth: 2 ** 30,
  maxStatusMatchers: 2 ** 30,
  maxStatusMatcherBytes: 2 ** 30,
  maxStatusMatcherNodes: 2 ** 30,
};
/** Limits random requests often pass. */
const tight: ResolvedLimits = {
  ...defaultLimits,
  maxNodeBytes: 600,
  maxNodeListEntries: 12,
  maxNodeMetadataDepth: 5,
  maxStatusMatchers: 4,
  maxStatusMatcherBytes: 150,
};
const nodeLimits = ['maxNodeBytes', 'maxNodeListEntries', 'maxNodeMetadataDepth'];

/** The levels and entries of a Struct or list value, added to `shape`. */
function jsonShape(
  value: JsonValue,
  level: number,
  shape: { depth: number; fields: number; values: number },
): void {
  if (value === null || typeof value !== 'object') return;
  shape.depth = Math.max(shape.depth, level + 1);
  const items = Array.isArray(value) ? value : Object.values(value);
  if (Array.isArray(value)) shape.values += value.length;
  else shape.fields += items.length;
  for (const item of items) jsonShape(item, level + 1, shape);
}

/**
 * What protobuf-es's decode shows of a node: its metadata's deepest level and its largest count of entries of one
 * field. The wire holds at least as much (protobuf-es drops what a later map key or oneof case overwrites), so a
 * node past a limit here must be refused.
 */
function decodedShape(node: Node | undefined): { depth: number; entries: number } {
  if (node === undefined) return { depth: 0, entries: 0 };
  const shape = { depth: 0, fields: 0, values: 0 };
  const version = node.userAgentVersionType;
  const metadatas = [
    node.metadata,
    version.case === 'userAgentBuildVersion' ? version.value.metadata : undefined,
    ...node.extensions.map((e) => e.version?.metadata),
  ];
  for (const metadata of metadatas) if (metadata !== undefined) jsonShape(metadata, 0, shape);
  const params = Object.values(node.dynamicParameters);
  const entries = Math.max(
    node.clientFeatures.length,
    node.extensions.length,
    node.listeningAddresses.length,
    params.length,
    node.extensions.reduce((n, e) => n + e.typeUrls.length, 0),
    params.reduce((n, p) => n + Object.keys(p.params).length, 0),
    shape.fields,
    shape.values,
  );
  return { depth: shape.depth, entries };
}

/** Tallies of the tight-limit property, for its diagnostics. */
const limited = { refusedByLimit: 0, passed: 0 };

/**
 * Rule L1 with the node and CSDS bounds: with `open` limits the pass agrees with protobuf-es; with `tight` ones, a
 * request whose decoded node or matchers pass a limit is refused, a refusal names a node or CSDS limit, and what
 * passes is what protobuf-es reads.
 */
function agreeWithin<T extends DescMessage>(
  schema: T,
  decoders: { open: Decoder<T>; tight: Decoder<T> },
  bytes: Buffer,
  label: string,
): void {
  agree(schema, decoders.open, bytes, label);
  const got = decoders.tight(bytes);
  const where = `${label} (tight limits), bytes ${bytes.toString('hex')}`;
  let expected: MessageShape<T> | undefined;
  try {
    expected = fromBinary(schema, bytes);
  } catch {
    assert.ok(got instanceof UndecodableRequest, `${where}: protobuf-es refuses, the server reads it`);
    return;
  }
  if (got instanceof UndecodableRequest) {
    if (got.limit === undefined) {
      assert.match(got.message, notCanonical, where);
      return;
    }
    assert.ok(
      [...nodeLimits, 'maxStatusMatchers', 'maxStatusMatcherBytes', 'maxStatusMatcherNodes'].includes(
        got.limit,
      ),
      where,
    );
    limited.refusedByLimit++;
    return;
  }
  limited.passed++;
  const message = expected as { node?: Node; nodeMatchers?: unknown[] };
  const shape = decodedShape(message.node);
  assert.ok(shape.depth <= tight.maxNodeMetadataDepth, `${where}: metadata ${shape.depth} deep passed`);
  assert.ok(
    shape.entries <= tight.maxNodeListEntries,
    `${where}: ${shape.entries} entries of a node field passed`,
  );
  assert.ok(
    (message.nodeMatchers?.length ?? 0) <= tight.maxStatusMatchers,
    `${where}: too many matchers passed`,
  );
  assert.ok(
    equals(schema, got, decoders.open(bytes) as MessageShape<T>),
    `${where}: differs from the open pass`,
  );
}

function boundedProperty<T extends DescMessage>(
  schema: T,
  decoders: { open: Decoder<T>; tight: Decoder<T> },
  make: (random: Random) => Buffer,
): number {
  const random = new Random(seed);
  const deadline = Date.now() + budgetMs;
  let run = 0;
  for (; run < cases && Date.now() < deadline; run++)
    agreeWithin(schema, decoders, make(random), `seed ${seed}, case ${run}`);
  return run;
}

/** A stream's decoding of its first request: the deserializer that leaves the node on the wire, then the stream's. */
function firstRequest<T extends DescMessage>(decode: Decoder<T>, limits: ResolvedLimits): Decoder<T> {
  return (bytes) => withFirstNode(decode(bytes), limits);
}

/**
 * A later request of a stream (rule S2): when protobuf-es reads it, so does the deserializer that leaves the node on
 * the wire (or refuses it as not canonical), and it is protobuf-es's request with a node of only protobuf-es's id.
 */
function agreeLater<T extends DescMessage>(
  schema: T,
  decode: Decoder<T>,
  bytes: Buffer,
  label: string,
): void {
  let expected: MessageShape<T>;
  try {
    expected = fromBinary(schema, bytes);
  } catch {
    return;
  }
  const got = decode(bytes);
  const where = `${label} (a later request), bytes ${bytes.toString('hex')}`;
  if (got instanceof UndecodableRequest) {
    assert.match(got.message, notCanonical, where);
    return;
  }
  const want = trimmed(schema, expected) as MessageShape<T> & { node?: Node | undefined };
  const node = (got as { node?: Node }).node;
  assert.equal(node?.id, want.node?.id, `${where}: node id`);
  if (node !== undefined) {
    assert.equal(node.metadata, undefined, `${where}: metadata decoded`);
    assert.equal(node.clientFeatures.length, 0, `${where}: client features decoded`);
  }
  (got as { node?: Node | undefined }).node = undefined;
  want.node = undefined;
  assert.ok(equals(schema, got as MessageShape<T>, want), `${where}: messages differ`);
}

describe(`wire readers within the node and CSDS bounds (seed ${seed})`, () => {
  it(`L1: requests with random and damaged nodes, open and tight node limits (${cases} cases each, seed ${seed})`, (t) => {
    const sotwRun = boundedProperty(
      DiscoveryRequestSchema,
      {
        open: sotwRequestDecoder(DiscoveryRequestSchema, open),
        tight: sotwRequestDecoder(DiscoveryRequestSchema, tight),
      },
      (random) => randomNodeRequest(random, sotwShape),
    );
    const deltaRun = boundedProperty(
      DeltaDiscoveryRequestSchema,
      {
        open: requestDecoder(DeltaDiscoveryRequestSchema, open),
        tight: requestDecoder(DeltaDiscoveryRequestSchema, tight),
      },
      (random) => randomNodeRequest(random, deltaShape),
    );
    t.diagnostic(`${sotwRun} + ${deltaRun} cases; ${JSON.stringify(limited)}; ${JSON.stringify(outcomes)}`);
    // Both sides of the tight limits are reached.
    assert.ok(
      limited.refusedByLimit > 0 && limited.passed > limited.refusedByLimit / 10,
      JSON.stringify(limited),
    );
  });

  it(`L1: CSDS requests, random and damaged, open and tight limits (${cases} cases, seed ${seed})`, (t) => {
    const before = { ...limited };
    const run = boundedProperty(
      ClientStatusRequestSchema,
      {
        open: requestDecoder(ClientStatusRequestSchema, open),
        tight: requestDecoder(ClientStatusRequestSchema, tight),
      },
      randomStatusRequest,
    );
    t.diagnostic(`${run} cases; ${JSON.stringify(limited)}; ${JSON.stringify(outcomes)}`);
    assert.ok(
      limited.refusedByLimit > before.refusedByLimit && limited.passed > before.passed,
      JSON.stringify(limited),
    );
  });

  it(`L1, S2: stream requests with the node left on the wire: first and later requests (${cases} cases each, seed ${seed})`, (t) => {
    const before = { ...limited };
    const streams = [
      [
        DiscoveryRequestSchema,
        (l: ResolvedLimits) => sotwRequestDecoder(DiscoveryRequestSchema, l, true),
        sotwShape,
      ],
      [
        DeltaDiscoveryRequestSchema,
        (l: ResolvedLimits) => requestDecoder(DeltaDiscoveryRequestSchema, l, true),
        deltaShape,
      ],
    ] as const;
    let run = 0;
    for (const [schema, make, shape] of streams) {
      const decoders = {
        open: firstRequest(make(open) as Decoder<DescMessage>, open),
        tight: firstRequest(make(tight) as Decoder<DescMessage>, tight),
      };
      const later = make(defaultLimits) as Decoder<DescMessage>;
      const random = new Random(seed);
      const deadline = Date.now() + budgetMs;
      for (let i = 0; i < cases && Date.now() < deadline; i++, run++) {
        const bytes = randomNodeRequest(random, shape);
        agreeWithin(schema as DescMessage, decoders, bytes, `seed ${seed}, case ${i}`);
        agreeLater(schema as DescMessage, later, bytes, `seed ${seed}, case ${i}`);
      }
    }
    t.diagnostic(`${run} cases; ${JSON.stringify(limited)}; ${JSON.stringify(outcomes)}`);
    assert.ok(
      limited.refusedByLimit > before.refusedByLimit && limited.passed > before.passed,
      JSON.stringify(limited),
    );
  });
});
