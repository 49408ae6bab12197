// Random nodes and CSDS requests for the property tests of rule L1 (the wire pass agrees with protobuf-es): nodes
// with metadata nested at random depths, extensions, client features, addresses and dynamic parameters; CSDS
// requests with node matchers of every kind (regexes, metadata matchers nested through list and or matchers).
// Encoded by protobuf-es, then framed in a request field by field so that a node may come twice (protobuf-es merges
// them), and damaged inside the node or matcher bytes as well as outside.
import { create, type JsonObject, type JsonValue, type MessageInitShape, toBinary } from '@bufbuild/protobuf';
import { ClientStatusRequestSchema, NodeMatcherSchema, NodeSchema, TypeUrl } from '@xds/api';
import { mutate, type Random, varint } from './test-wire.js';

type NodeInit = MessageInitShape<typeof NodeSchema>;

const words = ['a', 'b', 'key', 'ISTIO_META_X', 'é', '', 'LABELS', '中', 'x.y/z'];

function randomJson(random: Random, depth: number): JsonValue {
  switch (random.int(depth > 0 ? 7 : 4)) {
    case 0:
      return null;
    case 1:
      return random.chance(0.5) ? random.int(1000) : random.next() * 1e6;
    case 2:
      return random.pick(words).repeat(1 + random.int(3));
    case 3:
      return random.chance(0.5);
    case 4:
    case 5:
      return randomStruct(random, depth - 1);
    default:
      return Array.from({ length: random.int(4) }, () => randomJson(random, depth - 1));
  }
}

function randomStruct(random: Random, depth: number): JsonObject {
  const out: JsonObject = {};
  for (let i = random.int(5); i > 0; i--)
    out[`${random.pick(words)}${random.int(9)}`] = randomJson(random, depth);
  return out;
}

/** A random node: any of its fields, metadata up to 24 levels deep, lists up to 30 entries. */
export function randomNode(random: Random): NodeInit {
  const node: NodeInit = { id: random.chance(0.9) ? `node-${random.int(100)}` : '' };
  if (random.chance(0.3)) node.cluster = 'c';
  if (random.chance(0.5)) node.metadata = randomStruct(random, random.int(random.chance(0.2) ? 24 : 6));
  if (random.chance(0.2)) node.locality = { region: 'r', zone: random.pick(words), subZone: '' };
  if (random.chance(0.3)) node.userAgentName = 'envoy';
  if (random.chance(0.3))
    node.userAgentVersionType = random.chance(0.5)
      ? { case: 'userAgentVersion', value: '1.2.3' }
      : {
          case: 'userAgentBuildVersion',
          value: { version: { majorNumber: 1 }, metadata: randomStruct(random, random.int(4)) },
        };
  if (random.chance(0.3))
    node.extensions = Array.from({ length: random.int(30) }, (_, i) => ({
      name: `ext-${i}`,
      category: random.pick(words),
      typeUrls: Array.from({ length: random.int(3) }, () => `type.googleapis.com/${random.pick(words)}`),
      disabled: random.chance(0.1),
      ...(random.chance(0.1) ? { version: { metadata: randomStruct(random, 2) } } : {}),
    }));
  if (random.chance(0.4))
    node.clientFeatures = Array.from({ length: random.int(30) }, () => random.pick(words));
  if (random.chance(0.2))
    node.listeningAddresses = Array.from({ length: random.int(3) }, () => ({
      address: {
        case: 'socketAddress',
        value: { address: '10.0.0.1', portSpecifier: { case: 'portValue', value: 80 } },
      },
    }));
  if (random.chance(0.2)) {
    node.dynamicParameters = {};
    for (let i = random.int(4); i > 0; i--)
      node.dynamicParameters[random.pick(words)] = { params: { a: 'b' } };
  }
  return node;
}

/** A length-delimited field `no` holding `body`, its length sometimes an overlong varint. */
function field(random: Random, no: number, body: readonly number[]): number[] {
  return [...varint(no * 8 + 2), ...varint(body.length, random.chance(0.05) ? 1 : 0), ...body];
}

/** A node's bytes, damaged a quarter of the time. */
function nodeBytes(random: Random): number[] {
  const bytes = [...toBinary(NodeSchema, create(NodeSchema, randomNode(random)))];
  return random.chance(0.25) ? mutate(random, bytes) : bytes;
}

/**
 * A request (DiscoveryRequest `node` = 2, `type_url` = 4; DeltaDiscoveryRequest `node` = 1, `type_url` = 2) whose
 * node is random, sometimes twice; a tenth of them damaged outside the node too.
 */
export function randomNodeRequest(random: Random, shape: { node: number; typeUrl: number }): Buffer {
  const out = [
    ...field(random, shape.typeUrl, [...Buffer.from(TypeUrl.Cluster)]),
    ...field(random, shape.node, nodeBytes(random)),
  ];
  if (random.chance(0.1)) out.push(...field(random, shape.node, nodeBytes(random)));
  return Buffer.from(random.chance(0.1) ? mutate(random, out) : out);
}

function randomStringMatcher(random: Random): MessageInitShape<typeof NodeMatcherSchema>['nodeId'] {
  const value = random.pick(words).repeat(1 + random.int(3));
  const ignoreCase = random.chance(0.2);
  switch (random.int(6)) {
    case 0:
      return { matchPattern: { case: 'exact', value }, ignoreCase };
    case 1:
      return { matchPattern: { case: 'prefix', value }, ignoreCase };
    case 2:
      return { matchPattern: { case: 'suffix', value }, ignoreCase };
    case 3:
      return { matchPattern: { case: 'contains', value }, ignoreCase };
    case 4:
      return {
        matchPattern: { case: 'safeRegex', value: { regex: random.pick(['node-.*', 'a|b', '(x+)+y', '[']) } },
      };
    default:
      return {};
  }
}

type ValueMatcherInit = NonNullable<
  NonNullable<MessageInitShape<typeof NodeMatcherSchema>['nodeMetadatas']>[number]['value']
>;

function randomValueMatcher(random: Random, depth: number): ValueMatcherInit {
  switch (random.int(depth > 0 ? 7 : 5)) {
    case 0:
      return { matchPattern: { case: 'nullMatch', value: {} } };
    case 1:
      return {
        matchPattern: {
          case: 'doubleMatch',
          value: random.chance(0.5)
            ? { matchPattern: { case: 'exact', value: random.int(100) } }
            : { matchPattern: { case: 'range', value: { start: 1, end: 9 } } },
        },
      };
    case 2:
      return { matchPattern: { case: 'stringMatch', value: randomStringMatcher(random) ?? {} } };
    case 3:
      return { matchPattern: { case: 'boolMatch', value: random.chance(0.5) } };
    case 4:
      return { matchPattern: { case: 'presentMatch', value: random.chance(0.5) } };
    case 5:
      return {
        matchPattern: {
          case: 'listMatch',
          value: { matchPattern: { case: 'oneOf', value: randomValueMatcher(random, depth - 1) } },
        },
      };
    default:
      return {
        matchPattern: {
          case: 'orMatch',
          value: {
            valueMatchers: Array.from({ length: 1 + random.int(3) }, () =>
              randomValueMatcher(random, depth - 1),
            ),
          },
        },
      };
  }
}

/** A random node matcher's bytes, damaged a quarter of the time. */
function matcherBytes(random: Random): number[] {
  const matcher = create(NodeMatcherSchema, {
    ...(random.chance(0.8) ? { nodeId: randomStringMatcher(random) } : {}),
    nodeMetadatas: Array.from({ length: random.int(3) }, () => ({
      path: Array.from({ length: 1 + random.int(3) }, () => ({
        segment: { case: 'key' as const, value: random.pick(words) },
      })),
      value: randomValueMatcher(random, random.int(8)),
    })),
  });
  const bytes = [...toBinary(NodeMatcherSchema, matcher)];
  return random.chance(0.25) ? mutate(random, bytes) : bytes;
}

/**
 * A ClientStatusRequest { node_matchers = 1, node = 2, exclude_resource_contents = 3 }: random matchers (up to 8),
 * sometimes a node, fields in any order; a tenth of them damaged outside the matchers too.
 */
export function randomStatusRequest(random: Random): Buffer {
  const fields: number[][] = Array.from({ length: random.int(9) }, () =>
    field(random, 1, matcherBytes(random)),
  );
  if (random.chance(0.3)) fields.push(field(random, 2, nodeBytes(random)));
  if (random.chance(0.3)) fields.push([0x18, random.int(2)]);
  if (random.chance(0.3)) fields.reverse();
  const out = fields.flat();
  const bytes = random.chance(0.1) ? mutate(random, out) : out;
  // protobuf-es's own encoding of an empty request is empty: keep one case in a hundred so.
  return Buffer.from(
    random.chance(0.01) ? [...toBinary(ClientStatusRequestSchema, create(ClientStatusRequestSchema))] : bytes,
  );
}
