// Rule L1: the server's request deserializers (the lazy SotW name scanner, protobuf-es for the rest) agree with
// protobuf-es's own `fromBinary` on every input: the same message and names, or both refuse. Property tests over
// random and mutated requests with a printed seed (replay one with XDS_PROPERTY_SEED=<seed>).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  clone,
  create,
  type DescMessage,
  equals,
  fromBinary,
  type JsonValue,
  type MessageShape,
  toBinary,
} from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import {
  ClientStatusRequestSchema,
  Code,
  DeltaDiscoveryRequestSchema,
  DiscoveryRequestSchema,
  discoveryMethods,
  type Node,
  TypeUrl,
} from '@xds/api';
import { requestDecoder, UndecodableRequest } from './codec.js';
import { defaultLimits, type ResolvedLimits } from './limits.js';
import { sotwRequestDecoder } from './sotw-request.js';
import { type Harness, nextEvent, start } from './test-harness.js';
import { randomNodeRequest, randomStatusRequest } from './test-random-nodes.js';
import { grpcFrame, methodPathOf, RawConnection, until } from './test-raw-client.js';
import {
  deltaShape,
  overlongTagRequest,
  Random,
  type RequestShape,
  randomRequest,
  sotwShape,
} from './test-wire.js';

const seed = Number(process.env.XDS_PROPERTY_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** Cases per property, and a bound on the time they may take on a busy machine (then fewer run). */
const cases = 5000;
const budgetMs = 20_000;

type Decoder<T extends DescMessage> = (bytes: Buffer) => MessageShape<T> | UndecodableRequest;

/** The names the server reads of a decoded request, by field. */
function namesOf(message: object): Record<string, readonly string[]> {
  const out: Record<string, readonly string[]> = {};
  for (const key of ['resourceNames', 'resourceNamesSubscribe', 'resourceNamesUnsubscribe'])
    if (key in message) out[key] = [...(message as Record<string, string[]>)[key]!];
  return out;
}

/**
 * What the wire pass (request-wire.ts) refuses of what protobuf-es reads leniently: groups, a known field of
 * another wire type, an error_detail field running past its message, tags over 32 bits. Only these, with this
 * message, may be refused where protobuf-es reads the request.
 */
const notCanonical =
  /does not parse: (groups are not accepted|(error_detail )?field \d+ (has wire type \d|runs past the end)|.* runs past the end of its message|a tag is more than 32 bits|messages are nested deeper|.* is a varint of more than)/;

/** Counts of the cases by outcome, for the diagnostics. */
const outcomes = { agreed: 0, bothRefused: 0, notCanonical: 0 };

/**
 * protobuf-es's decode as the server's wire pass leaves it: no error_detail details and no unknown fields at the
 * top level or in error_detail.
 */
function trimmed<T extends DescMessage>(schema: T, message: MessageShape<T>): MessageShape<T> {
  const out = clone(schema, message) as MessageShape<T> & {
    $unknown?: unknown;
    errorDetail?: { details: unknown[]; $unknown?: unknown };
  };
  out.$unknown = undefined;
  if (out.errorDetail !== undefined) {
    out.errorDetail.details = [];
    out.errorDetail.$unknown = undefined;
  }
  return out;
}

/** Asserts that `decode` and protobuf-es agree on `bytes`. */
function agree<T extends DescMessage>(schema: T, decode: Decoder<T>, bytes: Buffer, label: string): void {
  let expected: MessageShape<T> | undefined;
  let reason = '';
  try {
    expected = fromBinary(schema, bytes);
  } catch (error) {
    reason = String(error);
  }
  const got = decode(bytes);
  const where = `${label}, bytes ${bytes.toString('hex')}`;
  if (expected === undefined) {
    assert.ok(
      got instanceof UndecodableRequest,
      `${where}: protobuf-es refuses (${reason}), the server reads it`,
    );
    outcomes.bothRefused++;
    return;
  }
  if (got instanceof UndecodableRequest && notCanonical.test(got.message)) {
    assert.equal(got.code, Code.InvalidArgument, where);
    outcomes.notCanonical++;
    return;
  }
  assert.ok(
    !(got instanceof UndecodableRequest),
    `${where}: protobuf-es reads it, the server refuses: ${(got as UndecodableRequest).message}`,
  );
  outcomes.agreed++;
  expected = trimmed(schema, expected);
  const unknown = (got as { $unknown?: unknown[] }).$unknown;
  assert.ok(unknown === undefined || unknown.length === 0, `${where}: unknown fields kept`);
  const detail = (got as { errorDetail?: { details: unknown[] } }).errorDetail;
  assert.equal(detail?.details.length ?? 0, 0, `${where}: error_detail.details decoded`);
  assert.deepEqual(namesOf(got), namesOf(expected), `${where}: names differ`);
  assert.ok(equals(schema, got, expected), `${where}: messages differ`);
}

function property<T extends DescMessage>(schema: T, decode: Decoder<T>, shape: RequestShape): number {
  const random = new Random(seed);
  const deadline = Date.now() + budgetMs;
  let run = 0;
  for (; run < cases && Date.now() < deadline; run++) {
    agree(schema, decode, randomRequest(random, shape), `seed ${seed}, case ${run}`);
  }
  return run;
}

/** Limits no random request reaches: the pass must then agree with protobuf-es (rule L1). */
const open: ResolvedLimits = {
  ...defaultLimits,
  maxNodeBytes: 2 ** 30,
  maxNodeListEntries: 2 ** 30,
  maxNodeMetadataDepth: 2 ** 30,
  maxStatusMatchers: 2 ** 30,
  maxStatusMatcherBytes: 2 ** 30,
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
    assert.ok([...nodeLimits, 'maxStatusMatchers', 'maxStatusMatcherBytes'].includes(got.limit), where);
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

describe(`wire readers agree with protobuf-es (seed ${seed})`, () => {
  // The decoders as the server builds them: the wire pass of request-wire.ts first (rule L2).
  const sotw = sotwRequestDecoder(DiscoveryRequestSchema, defaultLimits);

  it('L1: the 92-byte request with a two-byte resource_names tag decodes to protobuf-es names', () => {
    const bytes = overlongTagRequest();
    assert.equal(bytes.length, 92);
    agree(DiscoveryRequestSchema, sotw, bytes, 'the 92-byte request');
    const request = sotw(bytes);
    assert.ok(!(request instanceof UndecodableRequest));
    assert.equal(request.resourceNames.length, 8);
    assert.equal(request.resourceNames[7], 'éé');
  });

  it('L1: lazy names of every field shape: long lengths, overlong tags and lengths, split runs', () => {
    const long = 'x'.repeat(300);
    const field = (tag: number[], name: string, extraLength = 0) => {
      const bytes = Buffer.from(name, 'utf8');
      const length: number[] = [];
      let rest = bytes.length;
      do {
        length.push(rest & 0x7f);
        rest >>>= 7;
      } while (rest > 0);
      for (let i = 0; i < extraLength; i++) length.push(0);
      for (let i = 0; i < length.length - 1; i++) length[i]! |= 0x80;
      return [...tag, ...length, ...bytes];
    };
    const variants: number[][] = [
      Array.from({ length: 10 }, (_, i) => field([0x1a], `${long}${i}`)).flat(),
      Array.from({ length: 10 }, (_, i) => field([0x9a, 0x80, 0x00], `n${i}`, i % 3)).flat(),
      // An overlong tag of 6 bytes is more than a uint32: protobuf-es refuses it.
      [
        ...Array.from({ length: 9 }, (_, i) => field([0x1a], `n${i}`)).flat(),
        ...field([0x9a, 0x80, 0x80, 0x80, 0x80, 0x00], 'x'),
      ],
      // Names, an unknown varint field, names again.
      [
        ...Array.from({ length: 9 }, (_, i) => field([0x1a], `n${i}`)).flat(),
        0x98,
        0x06,
        0x01,
        ...Array.from({ length: 9 }, (_, i) => field([0x1a], `m${i}`)).flat(),
      ],
      // Not UTF-8 in one name: protobuf-es refuses the request.
      [...Array.from({ length: 9 }, (_, i) => field([0x1a], `n${i}`)).flat(), 0x1a, 0x02, 0xc3, 0x28],
      // A length past the end.
      [...Array.from({ length: 9 }, (_, i) => field([0x1a], `n${i}`)).flat(), 0x1a, 0x7f, 0x61],
    ];
    for (const [i, bytes] of variants.entries())
      agree(DiscoveryRequestSchema, sotw, Buffer.from(bytes), `variant ${i}`);
  });

  it(`L1: SotW requests, random and mutated (${cases} cases, seed ${seed})`, (t) => {
    const run = property(DiscoveryRequestSchema, sotw, sotwShape);
    t.diagnostic(`${run} cases; so far ${JSON.stringify(outcomes)}`);
  });

  it(`L1: delta requests, random and mutated (${cases} cases, seed ${seed})`, (t) => {
    const run = property(
      DeltaDiscoveryRequestSchema,
      requestDecoder(DeltaDiscoveryRequestSchema, defaultLimits),
      deltaShape,
    );
    t.diagnostic(`${run} cases; so far ${JSON.stringify(outcomes)}`);
    // Most cases are read by both: the wire pass does not refuse its way out of the property.
    assert.ok(outcomes.agreed > outcomes.notCanonical * 4, JSON.stringify(outcomes));
  });

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
});

describe('L1 over gRPC', () => {
  let h: Harness;
  before(async () => {
    h = await start();
  });
  after(async () => {
    await h.close();
  });

  const fetchEndpoints = discoveryMethods.find((m) => m.typeUrl === TypeUrl.Endpoint && m.kind === 'fetch')!;

  it('L1: the 92-byte request gets a status on ADS, a per-type stream and Fetch, and the server serves on', async () => {
    const connection = new RawConnection(Number(h.address.split(':')[1]));
    try {
      const bytes = overlongTagRequest();
      for (const path of [methodPathOf('sotw'), methodPathOf('sotw', TypeUrl.Endpoint)]) {
        const stream = connection.open(path);
        stream.write(grpcFrame(bytes));
        // The client's side ends too, so that the HTTP/2 stream closes once the server has answered.
        stream.stream.end();
        const end = await stream.ended;
        assert.equal(end.grpcStatus, status.INVALID_ARGUMENT, path);
        assert.match(end.grpcMessage ?? '', /node\.id/);
      }
      const fetch = connection.open(fetchEndpoints.path);
      fetch.write(grpcFrame(bytes));
      fetch.stream.end();
      const fetched = await fetch.ended;
      assert.equal(fetched.grpcStatus, status.INVALID_ARGUMENT);
      // With a node and a type in front, the server reads the names protobuf-es reads.
      const head = toBinary(
        DiscoveryRequestSchema,
        create(DiscoveryRequestSchema, { node: { id: 'n1' }, typeUrl: TypeUrl.Endpoint }),
      );
      const request = Buffer.concat([head, bytes]);
      const seen = nextEvent(h.server, 'request', (e) => e.nodeId === 'n1' && e.typeUrl === TypeUrl.Endpoint);
      const stream = connection.open(methodPathOf('sotw'));
      stream.write(grpcFrame(request));
      assert.deepEqual([...(await seen).names], fromBinary(DiscoveryRequestSchema, request).resourceNames);
      await until(() => stream.responses.length > 0, 'a response to the request with a node');
      stream.cancel();
      // Another client is served as usual.
      const other = h.client();
      other.subscribe(TypeUrl.Cluster, []);
      assert.deepEqual((await other.next(TypeUrl.Cluster)).names, ['c1', 'c2']);
    } finally {
      connection.close();
    }
  });
});
