// Random protobuf messages for property tests of hand-written wire readers (rule L1): a seeded PRNG, a writer that
// writes a message of any schema field by field (in odd style also overlong varints, unknown fields and groups,
// packed and unpacked lists, odd map entries, wrong wire types, invalid UTF-8), and mutations of its bytes. Test
// support only (not built into dist).
import type { DescField, DescMessage } from '@bufbuild/protobuf';
import { ScalarType } from '@bufbuild/protobuf';

/** A seeded PRNG (mulberry32), so that a failure can be replayed. */
export class Random {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

/** A varint of `value`, padded with `extra` redundant bytes (overlong, still legal up to ten bytes). */
export function varint(value: bigint, extra = 0): number[] {
  const out: number[] = [];
  let rest = BigInt.asUintN(64, value);
  do {
    out.push(Number(rest & 0x7fn));
    rest >>= 7n;
  } while (rest > 0n);
  for (let i = 0; i < extra; i++) out.push(0);
  for (let i = 0; i < out.length - 1; i++) out[i]! |= 0x80;
  return out;
}

const alphabet = ['a', 'z', '0', '.', '/', '*', ':', '|', ' ', 'é', '名', '😀', '\u0000', '\uFEFF'];

/** How random messages are written: `odd` adds what encoders never write but the wire allows, or breaks. */
export interface Style {
  readonly odd: boolean;
}

export class Writer {
  constructor(
    readonly random: Random,
    readonly style: Style,
  ) {}

  /** Padding for a tag or length: in odd style, sometimes overlong (rarely past what readers take). */
  #pad(): number {
    const r = this.random;
    if (!this.style.odd || !r.chance(0.03)) return 0;
    return r.chance(0.8) ? 1 + r.int(3) : 4 + r.int(7);
  }

  tag(no: number, wire: number): number[] {
    return varint(BigInt(no * 8 + wire), this.#pad());
  }

  lengthDelimited(body: readonly number[]): number[] {
    return [...varint(BigInt(body.length), this.#pad()), ...body];
  }

  text(): number[] {
    const r = this.random;
    if (this.style.odd && r.chance(0.03))
      return r.pick([[0xc3, 0x28], [0xed, 0xa0, 0x80], [0xff], [0xe2, 0x82]]);
    const text = Array.from({ length: r.int(10) }, () => r.pick(alphabet)).join('');
    return [...Buffer.from(text, 'utf8')];
  }

  varintValue(): number[] {
    const r = this.random;
    const value = r.pick([0n, 1n, BigInt(r.int(300)), BigInt(r.int(2 ** 31)), -1n, -BigInt(r.int(1000))]);
    return varint(value, this.style.odd && r.chance(0.05) ? r.int(4) : 0);
  }

  /** The body of a scalar value of `type` (after the tag). */
  scalar(type: ScalarType): number[] {
    const r = this.random;
    switch (type) {
      case ScalarType.STRING:
        return this.lengthDelimited(this.text());
      case ScalarType.BYTES:
        return this.lengthDelimited(Array.from({ length: r.int(6) }, () => r.int(256)));
      case ScalarType.DOUBLE:
      case ScalarType.FIXED64:
      case ScalarType.SFIXED64:
        return Array.from({ length: 8 }, () => r.int(256));
      case ScalarType.FLOAT:
      case ScalarType.FIXED32:
      case ScalarType.SFIXED32:
        return Array.from({ length: 4 }, () => r.int(256));
      default:
        return this.varintValue();
    }
  }

  /** A message of `schema`; `depth` bounds the nesting, `nameField` is written more often and sometimes twice. */
  message(schema: DescMessage, depth: number, nameField?: number): number[] {
    const r = this.random;
    const out: number[] = [];
    const count = depth > 4 ? r.int(2) : r.int(5);
    if (nameField !== undefined && r.chance(0.8))
      out.push(...this.field(schema.fields.find((f) => f.number === nameField)!, depth));
    for (let i = 0; i < count; i++) {
      if (schema.fields.length === 0 || r.chance(0.1)) out.push(...this.unknown());
      else out.push(...this.field(r.pick(schema.fields), depth));
    }
    if (nameField !== undefined && r.chance(0.2))
      out.push(...this.field(schema.fields.find((f) => f.number === nameField)!, depth));
    return out;
  }

  unknown(): number[] {
    const r = this.random;
    const no = r.pick([1000, 4095, 65_000, 536_870_911]);
    const wire = this.style.odd ? r.pick([0, 1, 2, 5, 3]) : r.pick([0, 1, 2, 5]);
    switch (wire) {
      case 0:
        return [...this.tag(no, 0), ...this.varintValue()];
      case 1:
        return [...this.tag(no, 1), ...this.scalar(ScalarType.FIXED64)];
      case 5:
        return [...this.tag(no, 5), ...this.scalar(ScalarType.FIXED32)];
      case 2:
        return [...this.tag(no, 2), ...this.scalar(ScalarType.BYTES)];
      default:
        return [...this.tag(no, 3), ...this.tag(1, 0), 1, ...this.tag(no, 4)];
    }
  }

  /** One occurrence of `field` (a list or a map: one to three elements, or entries). */
  field(field: DescField, depth: number): number[] {
    const r = this.random;
    const no = field.number;
    const nested = (schema: DescMessage) =>
      this.lengthDelimited(depth >= 6 ? [] : this.message(schema, depth + 1));
    // In odd style a known field sometimes comes with another wire type (protobuf-es reads it its own way).
    if (this.style.odd && r.chance(0.02)) {
      const wire = r.pick([0, 1, 2, 5]);
      const body =
        wire === 0
          ? this.varintValue()
          : wire === 2
            ? this.scalar(ScalarType.BYTES)
            : this.scalar(wire === 1 ? ScalarType.FIXED64 : ScalarType.FIXED32);
      return [...this.tag(no, wire), ...body];
    }
    switch (field.fieldKind) {
      case 'scalar':
        return [...this.tag(no, wireOf(field.scalar)), ...this.scalar(field.scalar)];
      case 'enum':
        return [...this.tag(no, 0), ...this.varintValue()];
      case 'message':
        return [...this.tag(no, 2), ...nested(field.message)];
      case 'list': {
        const n = 1 + r.int(3);
        if (field.listKind === 'message')
          return Array.from({ length: n }, () => [...this.tag(no, 2), ...nested(field.message)]).flat();
        const scalar = field.listKind === 'enum' ? ScalarType.INT32 : field.scalar;
        const packable = scalar !== ScalarType.STRING && scalar !== ScalarType.BYTES;
        if (packable && r.chance(0.5))
          return [
            ...this.tag(no, 2),
            ...this.lengthDelimited(Array.from({ length: n }, () => this.scalar(scalar)).flat()),
          ];
        return Array.from({ length: n }, () => [
          ...this.tag(no, wireOf(scalar)),
          ...this.scalar(scalar),
        ]).flat();
      }
      case 'map': {
        const entry: number[] = [];
        const key = [...this.tag(1, wireOf(field.mapKey)), ...this.scalar(field.mapKey)];
        const value =
          field.mapKind === 'message'
            ? [...this.tag(2, 2), ...nested(field.message)]
            : field.mapKind === 'enum'
              ? [...this.tag(2, 0), ...this.varintValue()]
              : [...this.tag(2, wireOf(field.scalar)), ...this.scalar(field.scalar)];
        const parts = [key, value].filter(() => r.chance(0.9));
        if (r.chance(0.2)) parts.reverse();
        if (r.chance(0.1)) parts.push(this.unknown());
        for (const part of parts) entry.push(...part);
        return [...this.tag(no, 2), ...this.lengthDelimited(entry)];
      }
    }
  }
}

export function wireOf(scalar: ScalarType): number {
  switch (scalar) {
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return 2;
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return 1;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return 5;
    default:
      return 0;
  }
}

/** A damaged copy of `bytes`: cut, a byte changed, inserted or dropped, a slice repeated, or two spliced. */
export function mutate(r: Random, bytes: number[], other: number[]): number[] {
  const out = [...bytes];
  const at = r.int(out.length + 1);
  switch (r.int(6)) {
    case 0:
      return out.slice(0, at);
    case 1:
      if (at < out.length) out[at] = r.chance(0.5) ? out[at]! ^ (1 << r.int(8)) : r.int(256);
      return out;
    case 2:
      out.splice(at, 0, r.pick([0x00, 0x08, 0x0a, 0x80, 0xff, 0x7f, r.int(256)]));
      return out;
    case 3:
      out.splice(at, 1 + r.int(3));
      return out;
    case 4: {
      const from = r.int(out.length + 1);
      out.splice(at, 0, ...out.slice(from, from + r.int(8)));
      return out;
    }
    default:
      return [...out.slice(0, at), ...other.slice(r.int(other.length + 1))];
  }
}
