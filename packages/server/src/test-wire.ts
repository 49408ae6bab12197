// Random and mutated discovery requests for the property tests of rule L1 (every hand-written reader of request
// bytes agrees with protobuf-es). Messages are written field by field, so that a test can choose what encoders
// never write but the wire allows: tags and lengths as overlong varints, unknown fields of every wire type (groups
// included), fields repeated or out of order; then mutated: truncated, bytes flipped, inserted or dropped.
import { create, toBinary } from '@bufbuild/protobuf';
import { NodeSchema, TypeUrl } from '@xds/api';

/** A seeded PRNG (mulberry32): the same seed gives the same cases, so a failure can be replayed. */
export class Random {
  #state: number;

  constructor(readonly seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One of the items. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

/** One field as it goes on the wire: a field number, a wire type and the bytes after the tag. */
interface WireField {
  readonly no: number;
  readonly wireType: number;
  readonly body: readonly number[];
  /** Written without overlong varints (a field another one's length was computed from). */
  readonly exact?: boolean;
}

/** A varint of `value` (below 2^35), padded with `extra` redundant bytes (an overlong encoding; still legal). */
export function varint(value: number, extra = 0): number[] {
  const out: number[] = [];
  let rest = value;
  do {
    out.push(rest % 128);
    rest = Math.floor(rest / 128);
  } while (rest > 0);
  for (let i = 0; i < extra; i++) out.push(0);
  for (let i = 0; i < out.length - 1; i++) out[i]! |= 0x80;
  return out;
}

/** How overlong the next varint is: usually not, sometimes by a few bytes, rarely past what readers accept. */
function padding(random: Random): number {
  if (!random.chance(0.04)) return 0;
  return random.chance(0.9) ? 1 + random.int(3) : 4 + random.int(7);
}

function utf8(text: string): number[] {
  return [...Buffer.from(text, 'utf8')];
}

const alphabet = [
  ...'abcdefghijklmnopqrstuvwxyz0123456789-._:',
  '/',
  '/',
  '*',
  '/*',
  '\n',
  '\t',
  '\u0000',
  '\u007f',
  'é',
  '中',
  '😀',
  '\ufeff',
  '\ud800',
];

/** A resource name: usually plain text, sometimes a glob, long (a two-byte length), or not UTF-8 at all. */
function nameBytes(random: Random): number[] {
  if (random.chance(0.004)) return Array.from({ length: random.int(6) }, () => random.int(256));
  let name = random.chance(0.05) ? '*' : '';
  const length = random.chance(0.1) ? 100 + random.int(200) : random.int(24);
  for (let i = 0; i < length; i++) name += random.pick(alphabet);
  if (random.chance(0.1)) name += '/*';
  return utf8(name);
}

function randomBytes(random: Random, max: number): number[] {
  return Array.from({ length: random.int(max) }, () => random.int(256));
}

function lengthField(no: number, body: readonly number[]): WireField {
  return { no, wireType: 2, body };
}

/** An unknown field of any wire type, groups (with nested fields) included. */
function unknownField(random: Random, depth = 0): WireField[] {
  const no = random.chance(0.5) ? 8 + random.int(100) : 1 + random.int(2 ** 29 - 1);
  switch (random.int(depth > 2 ? 4 : 5)) {
    case 0:
      return [{ no, wireType: 0, body: varint(random.int(2 ** 32), random.int(2)) }];
    case 1:
      return [{ no, wireType: 1, body: randomBytes(random, 1).concat([1, 2, 3, 4, 5, 6, 7, 8]).slice(-8) }];
    case 2:
      return [
        { no, wireType: 5, body: [random.int(256), random.int(256), random.int(256), random.int(256)] },
      ];
    case 3:
      return [lengthField(no, randomBytes(random, 12))];
    default: {
      const inner = Array.from({ length: random.int(3) }, () => unknownField(random, depth + 1)).flat();
      return [
        { no, wireType: 3, body: encodeFields(random, inner, false) },
        { no, wireType: 4, body: [] },
      ];
    }
  }
}

/** Writes fields with their tags (and lengths for wire type 2), some varints overlong when `pad`. */
function encodeFields(random: Random, fields: readonly WireField[], pad = true): number[] {
  const out: number[] = [];
  for (const field of fields) {
    const extra = () => (pad && field.exact !== true ? padding(random) : 0);
    out.push(...varint(field.no * 8 + field.wireType, extra()));
    if (field.wireType === 2) out.push(...varint(field.body.length, extra()));
    out.push(...field.body);
  }
  return out;
}

function nodeBytes(random: Random): number[] {
  const node = create(NodeSchema, {
    id: random.chance(0.9) ? `node-${random.int(100)}` : '',
    cluster: random.chance(0.3) ? 'c' : '',
    clientFeatures: random.chance(0.2) ? ['xds.config.supports-resource-ttl'] : [],
  });
  const bytes = [...toBinary(NodeSchema, node)];
  // Sometimes a node whose id runs past the node's end.
  if (bytes[0] === 0x0a && random.chance(0.05)) bytes[1]! += 1 + random.int(40);
  return bytes;
}

/** A `google.rpc.Status { code = 1, message = 2 }`. */
function statusBytes(random: Random): number[] {
  const message = utf8(random.chance(0.5) ? 'nack: bad' : '');
  const out = [8, random.int(17), 18, message.length, ...message];
  // details (3): Any { type_url = 1, value = 2 }, empty or not, which the server drops unread (rule L2).
  for (let i = random.int(4); i > 0; i--) {
    const any = random.chance(0.5) ? [] : [10, 3, ...utf8('t/x'), 18, 2, random.int(256), random.int(256)];
    out.splice(random.int(2) * 2, 0, 26, any.length, ...any);
  }
  if (random.chance(0.2)) out.push(0x20, random.int(128)); // an unknown varint field (4)
  return out;
}

/** The field numbers of the request messages whose names the server reads. */
export interface RequestShape {
  /** Repeated string fields that carry resource names. */
  readonly names: readonly number[];
  readonly node: number;
  readonly typeUrl: number;
  readonly nonce: number;
  readonly errorDetail: number;
  /** Other string fields (version_info). */
  readonly strings: readonly number[];
}

/** DiscoveryRequest: version_info 1, node 2, resource_names 3, type_url 4, response_nonce 5, error_detail 6. */
export const sotwShape: RequestShape = {
  names: [3],
  node: 2,
  typeUrl: 4,
  nonce: 5,
  errorDetail: 6,
  strings: [1],
};

/** DeltaDiscoveryRequest: node 1, type_url 2, subscribe 3, unsubscribe 4, response_nonce 6, error_detail 7. */
export const deltaShape: RequestShape = {
  names: [3, 4],
  node: 1,
  typeUrl: 2,
  nonce: 6,
  errorDetail: 7,
  strings: [],
};

/** A request's fields, in an encoder's order or shuffled, names in one run or split, unknown fields among them. */
function requestFields(random: Random, shape: RequestShape): WireField[] {
  const head: WireField[] = [];
  const tail: WireField[] = [];
  if (random.chance(0.9)) head.push(lengthField(shape.typeUrl, utf8(random.pick(Object.values(TypeUrl)))));
  for (const no of shape.strings)
    if (random.chance(0.5)) head.push(lengthField(no, utf8(`v${random.int(9)}`)));
  const node = random.chance(0.8) ? nodeBytes(random) : undefined;
  if (random.chance(0.5)) tail.push(lengthField(shape.nonce, utf8(String(random.int(1000)))));
  if (random.chance(0.1)) tail.push(lengthField(shape.errorDetail, statusBytes(random)));
  const names: WireField[] = [];
  for (const no of shape.names) {
    const count = random.chance(0.6) ? 8 + random.int(40) : random.int(10);
    for (let i = 0; i < count; i++) names.push(lengthField(no, nameBytes(random)));
  }
  if (node !== undefined) {
    const first = names[0];
    if (
      first !== undefined &&
      node[0] === 0x0a &&
      node[1]! + 2 + first.body.length < 128 &&
      random.chance(0.1)
    ) {
      // A node whose id runs on over the first name: protobuf-es reads the name as part of the id.
      names[0] = { ...first, exact: true };
      node[1]! += 2 + first.body.length;
    }
    head.push(lengthField(shape.node, node));
  }
  let fields = [...head, ...names, ...tail];
  if (random.chance(0.15)) {
    // A field repeated (a singular one: the last wins; node and error_detail merge).
    fields.push(random.pick(fields.length > 0 ? fields : [lengthField(shape.typeUrl, [])]));
  }
  if (random.chance(0.3)) {
    const extra = unknownField(random);
    fields.splice(random.int(fields.length + 1), 0, ...extra);
  }
  if (random.chance(0.1)) fields = shuffle(random, fields);
  return fields;
}

function shuffle<T>(random: Random, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Damages encoded bytes: truncated, a byte flipped, inserted or dropped, a range repeated, garbage appended. */
export function mutate(random: Random, bytes: number[]): number[] {
  const out = [...bytes];
  const times = 1 + random.int(3);
  for (let i = 0; i < times; i++) {
    const at = random.int(out.length + 1);
    switch (random.int(6)) {
      case 0:
        out.length = at;
        break;
      case 1:
        if (at < out.length) out[at] = random.int(256);
        break;
      case 2:
        out.splice(at, 0, random.int(256));
        break;
      case 3:
        out.splice(at, 1);
        break;
      case 4:
        out.splice(at, 0, ...out.slice(at, at + random.int(16)));
        break;
      default:
        out.push(...randomBytes(random, 8));
    }
  }
  return out;
}

/**
 * One test case: a random request of `shape`, encoded with the wire's freedoms; a quarter of them damaged, a few
 * plain random bytes.
 */
export function randomRequest(random: Random, shape: RequestShape): Buffer {
  if (random.chance(0.03)) return Buffer.from(randomBytes(random, 64));
  const bytes = encodeFields(random, requestFields(random, shape));
  return Buffer.from(random.chance(0.25) ? mutate(random, bytes) : bytes);
}

/**
 * The 92-byte request that crashed the server (rule L1): eight `resource_names`, the last tagged by a two-byte
 * varint (`9a 00`, an overlong 26: field 3, wire type 2) with an overlong length (`84 00`) and a name of non-ASCII
 * bytes. protobuf-es reads it like any other; a scanner that assumes one-byte tags walks backwards forever.
 */
export function overlongTagRequest(): Buffer {
  const fields: number[] = [];
  for (let i = 0; i < 7; i++) fields.push(0x1a, 10, ...utf8(`service-0${i}`));
  fields.push(0x9a, 0x00, 0x84, 0x00, ...utf8('éé'));
  return Buffer.from(fields);
}
