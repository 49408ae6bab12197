// Rule L1 for the name reader of wire-name.ts: on every input it answers what protobuf-es's `fromBinary` reads, or
// declines (and `nameOfBytes` then decodes). Property tests over random messages of every built-in type written
// field by field from the schema (overlong varints, unknown fields and groups, packed and unpacked lists, map
// entries with missing or extra fields, wrong wire types, invalid UTF-8), then mutated (truncated, bytes flipped,
// inserted, dropped, spliced), with a printed seed: replay one with XDS_PROPERTY_SEED=<seed>.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, type DescMessage, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ClusterSchema } from './gen/envoy/config/cluster/v3/cluster_pb.js';
import { ListenerSchema } from './gen/envoy/config/listener/v3/listener_pb.js';
import { RouteSchema } from './gen/envoy/config/route/v3/route_components_pb.js';
import { NameNotReadable } from './name-field.js';
import { defineResourceType, type ResourceType, resourceTypes } from './resource-type.js';
import { mutate, Random, type Style, varint, Writer } from './test-random-messages.js';
import { wireStringReader } from './wire-name.js';

const seed = Number(process.env.XDS_PROPERTY_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** Cases per property, and a bound on the time they may take on a busy machine (then fewer run). */
const cases = 3000;
const budgetMs = 20_000;

/** The name field of a type, as the reader and protobuf-es see it. */
interface Subject {
  readonly type: ResourceType;
  readonly schema: DescMessage;
  readonly nameField: number;
}

/** Every built-in type with a name, and a user type whose name is field 14 (envoy.config.route.v3.Route). */
const subjects: Subject[] = [
  ...resourceTypes
    .filter((t) => t.nameOfBytes !== undefined)
    .map((type) => ({ type, schema: type.schema, nameField: 1 })),
  {
    type: defineResourceType({ typeUrl: `type.googleapis.com/${RouteSchema.typeName}`, schema: RouteSchema }),
    schema: RouteSchema,
    nameField: 14,
  },
];

/** What protobuf-es reads as the name, or the error it throws. */
function protobufEs(subject: Subject, bytes: Uint8Array): { name: string } | { error: string } {
  try {
    return { name: subject.type.nameOf(fromBinary(subject.schema, bytes)) };
  } catch (error) {
    return { error: String(error) };
  }
}

interface Tally {
  /** Cases where the wire reader answered (and agreed). */
  answered: number;
  /** Cases where it declined and protobuf-es read the bytes. */
  declinedRead: number;
  /** Cases where protobuf-es refused the bytes (the reader declined, nameOfBytes threw). */
  refused: number;
}

/** Asserts that the wire reader and `nameOfBytes` agree with protobuf-es on `bytes`, and counts how. */
function agree(subject: Subject, bytes: Uint8Array, label: string, tally: Tally): void {
  const expected = protobufEs(subject, bytes);
  const where = `${subject.schema.typeName}, ${label}, bytes ${Buffer.from(bytes).toString('hex')}`;
  const wire = wireStringReader(subject.schema, subject.nameField)(bytes);
  if ('error' in expected) {
    assert.equal(
      wire,
      undefined,
      `${where}: protobuf-es refuses (${expected.error}), the wire reader reads "${wire}"`,
    );
    assert.throws(() => subject.type.nameOfBytes!(bytes), NameNotReadable, where);
    tally.refused++;
    return;
  }
  if (wire === undefined) tally.declinedRead++;
  else {
    assert.equal(wire, expected.name, `${where}: the wire reader reads another name`);
    tally.answered++;
  }
  assert.equal(subject.type.nameOfBytes!(bytes), expected.name, `${where}: nameOfBytes reads another name`);
}

function property(style: Style, mutated: boolean): Map<string, Tally> {
  const random = new Random(seed);
  const deadline = Date.now() + budgetMs;
  const tallies = new Map<string, Tally>();
  for (let run = 0; run < cases && Date.now() < deadline; run++) {
    const subject = subjects[run % subjects.length]!;
    const writer = new Writer(random, style);
    let bytes = writer.message(subject.schema, 0, subject.nameField);
    if (mutated) {
      const other = writer.message(subject.schema, 0, subject.nameField);
      for (let n = random.chance(0.7) ? 1 : 2; n > 0; n--) bytes = mutate(random, bytes, other);
    }
    let tally = tallies.get(subject.schema.typeName);
    if (tally === undefined) {
      tally = { answered: 0, declinedRead: 0, refused: 0 };
      tallies.set(subject.schema.typeName, tally);
    }
    agree(subject, Uint8Array.from(bytes), `seed ${seed}, case ${run}`, tally);
  }
  return tallies;
}

function total(tallies: Map<string, Tally>): Tally {
  const sum = { answered: 0, declinedRead: 0, refused: 0 };
  for (const t of tallies.values()) {
    sum.answered += t.answered;
    sum.declinedRead += t.declinedRead;
    sum.refused += t.refused;
  }
  return sum;
}

describe(`name reader on the wire agrees with protobuf-es (seed ${seed})`, () => {
  it(`L1: well-formed random messages of every type are read on the wire, never declined (seed ${seed})`, (t) => {
    const sum = total(property({ odd: false }, false));
    t.diagnostic(JSON.stringify(sum));
    assert.equal(sum.declinedRead, 0, 'the wire reader declined well-formed bytes');
    assert.equal(sum.refused, 0);
    assert.ok(sum.answered > 0);
  });

  it(`L1: odd and mutated messages: the same name as protobuf-es, or both refuse (seed ${seed})`, (t) => {
    const tallies = property({ odd: true }, true);
    const sum = total(tallies);
    t.diagnostic(JSON.stringify(sum));
    // Each way must be exercised, or the property proves less than it says.
    assert.ok(sum.answered > 100, `the wire reader answered ${sum.answered} times`);
    assert.ok(sum.declinedRead > 10, `protobuf-es read ${sum.declinedRead} declined cases`);
    assert.ok(sum.refused > 100, `protobuf-es refused ${sum.refused} cases`);
  });

  it('L1: odd but unmutated messages (wrong wire types, groups, overlong varints) agree too', (t) => {
    const sum = total(property({ odd: true }, false));
    t.diagnostic(JSON.stringify(sum));
    assert.ok(sum.answered > 100);
  });

  it('L1: toBinary output of real resources is read on the wire', () => {
    const cluster = create(ClusterSchema, {
      name: 'outbound|443||payments.prod.svc.cluster.local',
      connectTimeout: { seconds: 5n, nanos: 0 },
      metadata: {
        filterMetadata: { istio: { fields: { a: { kind: { case: 'stringValue', value: 'é' } } } } },
      },
    });
    const bytes = toBinary(ClusterSchema, cluster);
    assert.equal(wireStringReader(ClusterSchema, 1)(bytes), cluster.name);
    const listener = create(ListenerSchema, {
      name: '\uFEFFlistener',
      address: {
        address: {
          case: 'socketAddress',
          value: { address: '0.0.0.0', portSpecifier: { case: 'portValue', value: 80 } },
        },
      },
    });
    assert.equal(wireStringReader(ListenerSchema, 1)(toBinary(ListenerSchema, listener)), '\uFEFFlistener');
    assert.equal(wireStringReader(ListenerSchema, 1)(new Uint8Array()), '');
  });

  it("L1: malformed bytes give NameNotReadable with protobuf-es's reason, never a name", () => {
    const cluster = resourceTypes[0]!;
    const withMetadata = toBinary(
      ClusterSchema,
      create(ClusterSchema, {
        name: 'c1',
        metadata: {
          filterMetadata: { zzz: { fields: { k: { kind: { case: 'boolValue', value: true } } } } },
        },
      }),
    );
    // The same bytes with a map key deep inside metadata made invalid UTF-8 (same length): the name field is
    // intact, the message is not.
    const at = Buffer.from(withMetadata).indexOf('zzz');
    assert.ok(at > 0);
    const badUtf8 = Uint8Array.from(withMetadata);
    badUtf8.set([0xff, 0xfe, 0xff], at);
    const cases = [badUtf8, [0x0a, 0x05, 0x61], [0x00], [0x0b, 0x0c], [0x0a, 0x01, 0x61, 0x0f]];
    for (const bytes of cases) {
      const input = Uint8Array.from(bytes);
      const where = Buffer.from(input).toString('hex');
      assert.equal(wireStringReader(ClusterSchema, 1)(input), undefined, where);
      assert.throws(() => fromBinary(ClusterSchema, input), where);
      assert.throws(
        () => cluster.nameOfBytes!(input),
        (error: unknown) =>
          error instanceof NameNotReadable &&
          /^not a envoy\.config\.cluster\.v3\.Cluster: ./.test(error.message),
        where,
      );
    }
  });

  it('L1: bytes protobuf-es reads its own way are declined, and nameOfBytes gives its name', () => {
    const cluster = resourceTypes[0]!;
    const good = [...toBinary(ClusterSchema, create(ClusterSchema, { name: 'c1' }))];
    const loadAssignment = ClusterSchema.fields.find((f) => f.localName === 'loadAssignment')!.number;
    // A load_assignment of two bytes whose cluster_name (3 bytes) runs past it: protobuf-es reads on.
    const pastEnd = [...good, ...varint(BigInt(loadAssignment * 8 + 2)), 0x02, 0x0a, 0x03, 0x61, 0x62, 0x63];
    // The name sent as a varint holding a length: protobuf-es reads a string there whatever the wire type.
    const wrongWire = [0x08, 0x02, 0x68, 0x69];
    for (const [bytes, name] of [
      [pastEnd, 'c1'],
      [wrongWire, 'hi'],
    ] as const) {
      const input = Uint8Array.from(bytes);
      assert.equal(fromBinary(ClusterSchema, input).name, name);
      assert.equal(wireStringReader(ClusterSchema, 1)(input), undefined);
      assert.equal(cluster.nameOfBytes!(input), name);
    }
  });

  it("L1: nesting up to protobuf-es's recursion limit (100) is read on the wire; one level more is refused", () => {
    const cluster = resourceTypes[0]!;
    const metadata = ClusterSchema.fields.find((f) => f.localName === 'metadata')!.number;
    const delimited = (no: number, body: number[]) => [
      ...varint(BigInt(no * 8 + 2)),
      ...varint(BigInt(body.length)),
      ...body,
    ];
    const key = delimited(1, [0x6b]);
    /** A Cluster whose metadata holds a Struct holding `levels` nested Value / ListValue messages (depth 3 + levels). */
    const nested = (levels: number) => {
      let inner: number[] = [];
      // Level j is a Value when odd, a ListValue when even; a Value holds a ListValue in field 6, a ListValue
      // holds Values in field 1.
      for (let j = levels; j >= 2; j--) inner = delimited((j - 1) % 2 === 1 ? 6 : 1, inner);
      const struct = delimited(1, [...key, ...delimited(2, inner)]);
      const filterMetadata = delimited(1, [...key, ...delimited(2, struct)]);
      return Uint8Array.from([...delimited(1, [0x63, 0x31]), ...delimited(metadata, filterMetadata)]);
    };
    assert.equal(fromBinary(ClusterSchema, nested(97)).name, 'c1');
    assert.equal(wireStringReader(ClusterSchema, 1)(nested(97)), 'c1');
    assert.throws(() => fromBinary(ClusterSchema, nested(98)), /recursion depth/);
    assert.equal(wireStringReader(ClusterSchema, 1)(nested(98)), undefined);
    assert.throws(() => cluster.nameOfBytes!(nested(98)), NameNotReadable);
  });

  it('L1: the reader takes only a singular string field outside a oneof', () => {
    assert.throws(() => wireStringReader(ClusterSchema, 2), TypeError);
    assert.throws(() => wireStringReader(ClusterSchema, 3), TypeError);
    assert.throws(() => wireStringReader(ClusterSchema, 9999), TypeError);
  });
});
