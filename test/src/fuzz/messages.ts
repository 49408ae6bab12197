// Structure-aware generators: DiscoveryRequest, DeltaDiscoveryRequest and ClientStatusRequest as field trees
// (wire.ts), with values drawn from the served configuration (real node ids, type URLs, names, nonces the server
// hands out) and from the hostile end (long names, control characters, invalid UTF-8, many names and globs,
// giant error_detail, deep metadata, regexes that backtrack). Field numbers are Envoy's v3 protos'.
import { fuzzTypeUrls, servedNodes } from './fuzz-config.js';
import type { Random } from './random.js';
import { bulkStrings, msg, num, str, type WireField } from './wire.js';

/** What the generators know of the target: resource names by type URL. */
export interface Vocabulary {
  readonly names: Readonly<Record<string, readonly string[]>>;
  readonly allNames: readonly string[];
}

/** Builds the vocabulary from the served names. */
export function vocabulary(names: Record<string, string[]>): Vocabulary {
  return { names, allNames: Object.values(names).flat() };
}

const controlChars = [
  '\u0000',
  '\u0001',
  '\n',
  '\r',
  '\t',
  '\u001b[31m',
  '\u007f',
  '\u2028',
  '\ufeff',
  '\ud83d\ude00',
];
const globs = [
  '*',
  'svc-*',
  'outbound|8080||*',
  'xdstp://authority/envoy.config.cluster.v3.Cluster/*',
  '**',
  '*/*',
];

/** A string of some hostile or ordinary kind, as bytes (so that it may be invalid UTF-8). */
export function fuzzString(r: Random, known: readonly string[] = []): Buffer {
  const kind = r.weighted({
    known: 6,
    ascii: 3,
    control: 2,
    long: 1,
    invalid: 1,
    empty: 1,
    glob: 1,
    xdstp: 1,
  });
  switch (kind) {
    case 'known':
      return Buffer.from(known.length > 0 ? r.pick(known) : 'svc-0');
    case 'ascii': {
      const n = r.size(64);
      let text = '';
      for (let i = 0; i < n; i++) text += String.fromCharCode(32 + r.int(95));
      return Buffer.from(text);
    }
    case 'control': {
      let text = known.length > 0 ? r.pick(known) : 'x';
      for (let i = r.range(1, 4); i > 0; i--) {
        const at = r.int(text.length + 1);
        text = text.slice(0, at) + r.pick(controlChars) + text.slice(at);
      }
      return Buffer.from(text);
    }
    case 'long':
      // Around and past the 4 KiB node-id and 16 KiB name limits.
      return Buffer.alloc(r.pick([4095, 4097, 16_383, 16_385, r.range(1, 70_000)]), r.pick(['a', 'x', '*']));
    case 'invalid':
      return Buffer.concat([Buffer.from('svc-'), r.bytes(r.range(1, 8)).map((b) => b | 0x80)]);
    case 'empty':
      return Buffer.alloc(0);
    case 'glob':
      return Buffer.from(r.pick(globs));
    case 'xdstp':
      return Buffer.from(
        `xdstp://${r.pick(['', 'auth', 'a.b'])}/${r.pick(fuzzTypeUrls).slice(20)}/${r.int(99)}`,
      );
  }
}

/** A node id: mostly one the target serves, sometimes a fresh, empty, long or odd one. */
export function nodeId(r: Random): Buffer {
  if (r.chance(0.7)) return Buffer.from(r.pick(Object.keys(servedNodes)));
  return fuzzString(r, [`fuzz-${r.int(1000)}`]);
}

/** A google.protobuf.Struct, nested `depth` deep (deep ones test recursion limits). */
function struct(r: Random, depth: number): WireField[] {
  const fields: WireField[] = [];
  for (let i = r.range(0, 3); i > 0; i--) {
    const value: WireField[] =
      depth > 0 && r.chance(0.6)
        ? [r.chance(0.5) ? msg(5, struct(r, depth - 1)) : msg(6, [msg(1, [msg(5, struct(r, depth - 1))])])]
        : [
            r.pick([
              str(3, fuzzString(r)),
              num(4, 1),
              { field: 2, wt: 1, value: r.u32() ? 3n : 0n } as WireField,
            ]),
          ];
    fields.push(msg(1, [str(1, fuzzString(r, ['app', 'version', 'ISTIO_VERSION'])), msg(2, value)]));
  }
  return fields;
}

/**
 * A chain of Structs nested `depth` deep, already encoded (one map entry per level: cheap in bytes, deep in
 * recursion). Built inside out by sizes, then written outside in, so that it costs linear time.
 */
function deepStruct(depth: number): Buffer {
  const varintSize = (n: number) =>
    n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
  // Per level: struct = 0x0a len(entry) entry; entry = 0a 01 'k' 12 len(value) value; value = 2a len(inner) inner.
  const structSizes = [0];
  const entrySizes: number[] = [];
  const valueSizes: number[] = [];
  for (let i = 1; i <= depth; i++) {
    const inner = structSizes[i - 1]!;
    const value = 1 + varintSize(inner) + inner;
    const entry = 3 + 1 + varintSize(value) + value;
    valueSizes[i] = value;
    entrySizes[i] = entry;
    structSizes[i] = 1 + varintSize(entry) + entry;
  }
  const out: number[] = [];
  const push = (n: number) => {
    let rest = n;
    while (rest > 0x7f) {
      out.push((rest & 0x7f) | 0x80);
      rest >>>= 7;
    }
    out.push(rest);
  };
  for (let i = depth; i >= 1; i--) {
    out.push(0x0a);
    push(entrySizes[i]!);
    out.push(0x0a, 0x01, 0x6b, 0x12);
    push(valueSizes[i]!);
    out.push(0x2a);
    push(structSizes[i - 1]!);
  }
  return Buffer.from(out);
}

/** An envoy.config.core.v3.Node with `id`. */
export function node(r: Random, id: Buffer): WireField[] {
  const fields: WireField[] = [str(1, id)];
  if (r.chance(0.5)) fields.push(str(2, fuzzString(r, ['mesh', 'default'])));
  if (r.chance(0.3))
    fields.push(r.chance(0.05) ? str(3, deepStruct(r.range(50, 5000))) : msg(3, struct(r, 3)));
  if (r.chance(0.3))
    fields.push(
      msg(4, [str(1, fuzzString(r, ['r1'])), str(2, fuzzString(r, ['z1'])), str(3, fuzzString(r))]),
    );
  if (r.chance(0.6))
    fields.push(str(6, r.chance(0.8) ? r.pick(['envoy', 'grpc-node-js', 'gRPC C-core']) : fuzzString(r)));
  if (r.chance(0.3)) fields.push(str(7, fuzzString(r, ['1.30.0'])));
  if (r.chance(0.3)) {
    const features = ['xds.config.supports-resource-ttl', 'envoy.lb.does_not_support_overprovisioning', 'x'];
    for (let i = r.size(40); i > 0; i--)
      fields.push(str(10, r.chance(0.8) ? r.pick(features) : fuzzString(r)));
  }
  if (r.chance(0.1)) for (let i = r.size(300); i > 0; i--) fields.push(msg(9, [str(1, fuzzString(r))]));
  if (r.chance(0.1)) fields.push(msg(11, [msg(1, [str(2, '127.0.0.1'), num(3, r.int(70000))])]));
  if (r.chance(0.05))
    fields.push(msg(12, [str(1, fuzzString(r)), msg(2, [msg(1, [str(1, 'k'), str(2, fuzzString(r))])])]));
  return fields;
}

/**
 * The resource_names fields of a request (field `field`): none (wildcard), a few known, many, or past the
 * 100,000-name / 1,000-glob limits (those in bulk, sometimes with 2-byte tags).
 */
export function names(r: Random, v: Vocabulary, typeUrl: string, field: number): WireField[] {
  const known = v.names[typeUrl] ?? v.allNames;
  const shape = r.weighted({ none: 3, few: 8, many: 2, globs: 0.5, huge: 0.05 });
  const out: WireField[] = [];
  if (shape === 'none') return out;
  if (shape === 'few') for (let i = r.range(1, 6); i > 0; i--) out.push(str(field, fuzzString(r, known)));
  if (shape === 'many') {
    for (let i = r.chance(0.9) ? r.range(8, 300) : r.range(300, 3000); i > 0; i--)
      out.push(str(field, r.chance(0.9) ? r.pick(known.length > 0 ? known : ['x']) : `n-${r.int(1e6)}`));
  }
  const tagPad = r.chance(0.3) ? 1 : 0;
  if (shape === 'globs') {
    const count = r.range(900, 1100);
    out.push(
      bulkStrings(
        field,
        Array.from({ length: count }, (_, i) => `g${i}/*`),
        tagPad,
      ),
    );
  }
  if (shape === 'huge') {
    const count = r.range(99_990, 100_010);
    out.push(
      bulkStrings(
        field,
        Array.from({ length: count }, (_, i) => `n${i}`),
        tagPad,
      ),
    );
  }
  return out;
}

/** A nonce: one the server has handed out on a young stream ("1", "2", …), empty, or junk. */
function nonce(r: Random): Buffer {
  return r.chance(0.8) ? Buffer.from(r.pick(['', '1', '2', '3', '4'])) : fuzzString(r);
}

/** A google.rpc.Status as error_detail: usually short, sometimes giant (past the 4 KiB kept for display). */
function errorDetail(r: Random): WireField[] {
  const size = r.chance(0.1) ? r.pick([4097, 65_536, r.range(1, 1024 * 1024)]) : r.size(200);
  const fields: WireField[] = [num(1, r.pick([3, 13, -1, 2 ** 31])), str(2, Buffer.alloc(size, 'e'))];
  if (r.chance(0.2)) fields.push(msg(3, [str(1, 'type.googleapis.com/x'), str(2, r.bytes(r.size(64)))]));
  return fields;
}

/** How a request sits in its stream: the first carries the node; later ones may change it (mid-stream). */
export interface RequestPlace {
  readonly first: boolean;
  readonly nodeId: Buffer;
  readonly typeUrl: string;
}

/** A SotW DiscoveryRequest. */
export function discoveryRequest(r: Random, v: Vocabulary, at: RequestPlace): WireField[] {
  const fields: WireField[] = [];
  if (r.chance(0.5)) fields.push(str(1, r.chance(0.7) ? '' : fuzzString(r, ['p1.1'])));
  if (at.first ? r.chance(0.97) : r.chance(0.15)) {
    const id = !at.first && r.chance(0.5) ? nodeId(r) : at.nodeId;
    fields.push(msg(2, node(r, id)));
  }
  fields.push(...names(r, v, at.typeUrl, 3));
  if (r.chance(0.95)) fields.push(str(4, at.typeUrl));
  if (!at.first || r.chance(0.1)) fields.push(str(5, nonce(r)));
  if (!at.first && r.chance(0.3)) fields.push(msg(6, errorDetail(r)));
  if (r.chance(0.05)) fields.push(msg(7, [str(1, fuzzString(r, v.allNames))]));
  return fields;
}

/** A DeltaDiscoveryRequest. */
export function deltaRequest(r: Random, v: Vocabulary, at: RequestPlace): WireField[] {
  const fields: WireField[] = [];
  if (at.first ? r.chance(0.97) : r.chance(0.15)) {
    const id = !at.first && r.chance(0.5) ? nodeId(r) : at.nodeId;
    fields.push(msg(1, node(r, id)));
  }
  if (r.chance(0.95)) fields.push(str(2, at.typeUrl));
  fields.push(...names(r, v, at.typeUrl, 3));
  if (!at.first && r.chance(0.4)) fields.push(...names(r, v, at.typeUrl, 4));
  if (at.first && r.chance(0.3)) {
    for (let i = r.size(500); i > 0; i--)
      fields.push(msg(5, [str(1, fuzzString(r, v.allNames)), str(2, fuzzString(r, ['p1.1']))]));
  }
  if (!at.first || r.chance(0.1)) fields.push(str(6, nonce(r)));
  if (!at.first && r.chance(0.3)) fields.push(msg(7, errorDetail(r)));
  if (r.chance(0.05)) fields.push(msg(r.pick([8, 9]), [str(1, fuzzString(r, v.allNames))]));
  return fields;
}

/** Regexes for CSDS node matchers: ordinary, invalid, huge, and the classic catastrophic-backtracking ones. */
const regexes = [
  'fuzz-.*',
  '.*',
  'fuzz-(envoy|grpc)',
  '(',
  '[',
  '\\',
  '(?=a)a',
  '(a)\\1',
  '(a+)+$',
  '(a|aa)+$',
  '(a*)*b',
  '(.*a){25}',
  '([a-z]+)*$',
  '(x+x+)+y',
  'a{1000}{1000}',
  '(?i)FUZZ-.*',
  '\\p{L}+',
  '[^\\x00-\\x7f]+',
];

/** A StringMatcher. */
function stringMatcher(r: Random): WireField[] {
  const kind = r.weighted({ exact: 2, prefix: 2, suffix: 1, contains: 1, regex: 6, custom: 0.3 });
  const fields: WireField[] = [];
  const value = () => fuzzString(r, [...Object.keys(servedNodes), 'fuzz', 'a'.repeat(30)]);
  if (kind === 'exact') fields.push(str(1, value()));
  if (kind === 'prefix') fields.push(str(2, value()));
  if (kind === 'suffix') fields.push(str(3, value()));
  if (kind === 'contains') fields.push(str(7, value()));
  if (kind === 'custom') fields.push(msg(8, [str(1, 'x')]));
  if (kind === 'regex') {
    const regex = r.chance(0.85)
      ? Buffer.from(r.pick(regexes))
      : r.chance(0.5)
        ? fuzzString(r)
        : Buffer.alloc(r.range(1000, 100_000), '(');
    const re: WireField[] = [str(2, regex)];
    if (r.chance(0.2)) re.unshift(msg(1, [num(1, r.int(10_000))]));
    fields.push(msg(5, re));
  }
  if (r.chance(0.2)) fields.push(num(6, 1));
  return fields;
}

/** A ClientStatusRequest with node matchers (regexes included). */
export function clientStatusRequest(r: Random): WireField[] {
  const fields: WireField[] = [];
  for (let i = Number(r.weighted({ 0: 1, 1: 6, 3: 2, 200: 0.2 })); i > 0; i--) {
    const matcher: WireField[] = [];
    if (r.chance(0.9)) matcher.push(msg(1, stringMatcher(r)));
    if (r.chance(0.2)) matcher.push(msg(2, [msg(2, [str(1, 'app')]), msg(3, [msg(3, stringMatcher(r))])]));
    fields.push(msg(1, matcher));
  }
  if (r.chance(0.2)) fields.push(msg(2, node(r, nodeId(r))));
  if (r.chance(0.5)) fields.push(num(3, 1));
  return fields;
}
