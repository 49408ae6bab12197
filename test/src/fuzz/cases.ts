// The case generator: case `index` of run `seed` is always the same case. Kinds, by weight: SotW and delta
// streams (mutated requests, node id changes mid-stream, many requests), unary Fetch, CSDS (unary and streaming,
// regex node matchers), REST JSON, odd gRPC headers and framing (compressed flag, lying length prefixes,
// truncated frames), and session-level abuse (RST storms, many header-only streams, slow readers, ping floods).
import { gzipSync } from 'node:zlib';
import { discoveryMethods } from '@xds/api';
import type { FuzzCase, StreamPlan } from './case.js';
import { fuzzTypeUrls } from './fuzz-config.js';
import {
  clientStatusRequest,
  deltaRequest,
  discoveryRequest,
  nodeId,
  type RequestPlace,
  type Vocabulary,
} from './messages.js';
import { encodeMutated, frameMutated } from './mutate.js';
import { Random } from './random.js';
import { restCase } from './rest-cases.js';
import { encodeFields, grpcFrame, type WireField } from './wire.js';

/** Every case kind with its weight in a run. */
export const caseWeights = {
  sotw: 30,
  delta: 16,
  fetch: 8,
  csds: 6,
  'csds-stream': 2,
  rest: 12,
  'odd-headers': 4,
  framing: 6,
  'rst-storm': 1,
  'header-only': 1.5,
  'many-streams': 0.3,
  'slow-reader': 1.5,
  'ping-flood': 0.3,
  'cut-connection': 0.7,
} as const;

/** A case kind. */
export type CaseKind = keyof typeof caseWeights;

const sotwPaths = discoveryMethods.filter((m) => m.kind === 'sotw');
const deltaPaths = discoveryMethods.filter((m) => m.kind === 'delta');
const fetchPaths = discoveryMethods.filter((m) => m.kind === 'fetch');
const csdsUnary = '/envoy.service.status.v3.ClientStatusDiscoveryService/FetchClientStatus';
const csdsStream = '/envoy.service.status.v3.ClientStatusDiscoveryService/StreamClientStatus';
const adsPath = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';
const servedTypes = fuzzTypeUrls.filter((t) => t.startsWith('type.googleapis.com/envoy'));

/** Generates case `index` of run `seed`, from the kinds allowed (all by default). */
export function generateCase(
  seed: number,
  index: number,
  v: Vocabulary,
  kinds: ReadonlySet<CaseKind> | undefined = undefined,
): FuzzCase {
  const r = new Random(seed, index);
  const weights: Partial<Record<CaseKind, number>> = {};
  for (const [kind, weight] of Object.entries(caseWeights) as [CaseKind, number][])
    if (kinds === undefined || kinds.has(kind)) weights[kind] = weight;
  const kind = r.weighted(weights as Record<CaseKind, number>);
  switch (kind) {
    case 'sotw':
    case 'delta':
      return { kind, transport: 'h2', streams: [discoveryStream(r, v, kind)] };
    case 'fetch': {
      const method = r.pick(fetchPaths);
      const place = { first: true, nodeId: nodeId(r), typeUrl: typeFor(r, method.typeUrl) };
      const count = r.weighted({ 1: 20, 0: 1, 2: 1 });
      const chunks = Array.from({ length: Number(count) }, () =>
        frameMutated(r, encodeMutated(r, discoveryRequest(r, v, place))),
      );
      return {
        kind,
        transport: 'h2',
        streams: [{ path: method.path, chunks, end: 'half-close', expect: 'status' }],
      };
    }
    case 'csds':
    case 'csds-stream': {
      const count = kind === 'csds' ? 1 : r.range(1, 3);
      const chunks = Array.from({ length: count }, () =>
        frameMutated(r, encodeMutated(r, clientStatusRequest(r))),
      );
      const path = kind === 'csds' ? csdsUnary : csdsStream;
      return { kind, transport: 'h2', streams: [{ path, chunks, end: 'half-close', expect: 'status' }] };
    }
    case 'rest':
      return restCase(r, v);
    case 'odd-headers':
      return oddHeaders(r, v);
    case 'framing':
      return framing(r, v);
    case 'rst-storm':
      return rstStorm(r, v);
    case 'header-only':
      return headerOnly(r);
    case 'many-streams':
      return manyStreams(r, v);
    case 'slow-reader':
      return slowReader(r, v);
    case 'ping-flood':
      return {
        kind,
        transport: 'h2',
        ownSession: { pings: r.range(100, 2000) },
        streams: [validStream(r, v, 'half-close')],
      };
    case 'cut-connection': {
      const stream = discoveryStream(r, v, 'sotw');
      const all = Buffer.concat(stream.chunks);
      const cut = all.subarray(0, r.int(all.length + 1));
      return {
        kind,
        transport: 'h2',
        ownSession: { destroy: true },
        streams: [{ ...stream, chunks: [cut], end: 'leave', holdMs: r.int(50), expect: 'none' }],
      };
    }
  }
}

/** The type of a request on a method: its own type, or (ADS) mostly a served one. */
function typeFor(r: Random, fixed: string | undefined): string {
  if (fixed !== undefined) return r.chance(0.9) ? fixed : r.pick(fuzzTypeUrls);
  return r.chance(0.9) ? r.pick(servedTypes.slice(0, 4)) : r.pick(fuzzTypeUrls);
}

/** A SotW or delta stream of 1–4 (rarely 30) requests, mutated, ended by a half-close or a cancel. */
function discoveryStream(r: Random, v: Vocabulary, kind: 'sotw' | 'delta'): StreamPlan {
  const method = r.pick(kind === 'sotw' ? sotwPaths : deltaPaths);
  const id = nodeId(r);
  const count = Number(r.weighted({ 1: 6, 2: 4, 3: 2, 4: 1, 30: 0.2 }));
  const chunks: Buffer[] = [];
  let typeUrl = typeFor(r, method.typeUrl);
  for (let i = 0; i < count; i++) {
    if (i > 0 && r.chance(0.2)) typeUrl = typeFor(r, method.typeUrl);
    const place: RequestPlace = { first: i === 0, nodeId: id, typeUrl };
    const fields = kind === 'sotw' ? discoveryRequest(r, v, place) : deltaRequest(r, v, place);
    chunks.push(frameMutated(r, encodeMutated(r, fields)));
  }
  const split = r.chance(0.1) ? splitChunks(r, chunks) : chunks;
  const cancel = r.chance(0.15);
  return {
    path: method.path,
    chunks: split,
    end: cancel ? 'cancel' : 'half-close',
    holdMs: r.chance(0.1) ? r.int(200) : 0,
    expect: cancel ? 'none' : 'status',
  };
}

/** The same bytes cut at other places (grpc-js must reassemble frames across writes). */
function splitChunks(r: Random, chunks: readonly Buffer[]): Buffer[] {
  const all = Buffer.concat(chunks);
  const out: Buffer[] = [];
  let at = 0;
  while (at < all.length) {
    const next = Math.min(all.length, at + r.range(1, Math.max(1, all.length >> 1)));
    out.push(all.subarray(at, next));
    at = next;
  }
  return out;
}

const validFrames = new Map<string, Buffer>();

/** The frame of a well-formed SotW request on ADS for a served node, with or without its type's names. */
function validFrame(id: string, typeUrl: string, withNames: boolean, v: Vocabulary): Buffer {
  const key = `${id} ${typeUrl} ${withNames}`;
  let frame = validFrames.get(key);
  if (frame === undefined) {
    const fields: WireField[] = [
      { field: 2, wt: 2, value: [{ field: 1, wt: 2, value: Buffer.from(id) }] },
      { field: 4, wt: 2, value: Buffer.from(typeUrl) },
    ];
    if (withNames)
      for (const name of v.names[typeUrl] ?? []) fields.push({ field: 3, wt: 2, value: Buffer.from(name) });
    frame = grpcFrame(encodeFields(fields));
    validFrames.set(key, frame);
  }
  return frame;
}

/** A well-formed SotW request on ADS for a served node: a stream a real client would open. */
function validStream(r: Random, v: Vocabulary, end: 'half-close' | 'leave'): StreamPlan {
  const frame = validFrame(
    r.pick(['fuzz-envoy', 'fuzz-grpc']),
    r.pick(servedTypes.slice(0, 4)),
    r.chance(0.5),
    v,
  );
  return { path: adsPath, chunks: [frame], end, expect: end === 'leave' ? 'end' : 'status' };
}

const contentTypes = [
  'application/grpc+proto',
  'application/json',
  'text/plain',
  '',
  'application/grpc; x=1',
  'application/grpcx',
];
const timeouts = ['1n', '0m', '5S', '99999999H', 'abc', '-1m', '1'];
const encodings = ['gzip', 'identity', 'deflate', 'snappy', 'x-unknown', ''];

/** A gRPC stream with odd headers: content types, encodings (with the compressed flag), timeouts, paths. */
function oddHeaders(r: Random, v: Vocabulary): FuzzCase {
  const base = r.chance(0.5)
    ? discoveryStream(r, v, r.chance(0.5) ? 'sotw' : 'delta')
    : validStream(r, v, 'half-close');
  const headers: Record<string, string | null> = {};
  for (let n = r.range(1, 3); n > 0; n--) {
    const what = r.weighted({
      contentType: 2,
      noTe: 1,
      encoding: 2,
      timeout: 1,
      userAgent: 1,
      long: 1,
      many: 0.5,
      method: 1,
      authority: 1,
      junk: 1,
    });
    if (what === 'contentType') headers['content-type'] = r.chance(0.2) ? null : r.pick(contentTypes);
    if (what === 'noTe') headers['te'] = r.chance(0.5) ? null : 'gzip';
    if (what === 'encoding') headers['grpc-encoding'] = r.pick(encodings);
    if (what === 'timeout') headers['grpc-timeout'] = r.pick(timeouts);
    if (what === 'userAgent') headers['user-agent'] = 'x'.repeat(r.size(5000));
    if (what === 'long') headers['x-long'] = 'v'.repeat(r.range(1000, 60_000));
    if (what === 'many') for (let i = r.range(10, 500); i > 0; i--) headers[`x-h${i}`] = String(i);
    if (what === 'method') headers[':method'] = r.pick(['GET', 'PUT', 'OPTIONS', 'post']);
    if (what === 'authority') headers[':authority'] = r.pick(['', 'a'.repeat(300), '[::1]:x']);
    if (what === 'junk') headers['grpc-accept-encoding'] = r.pick(encodings);
  }
  let chunks = base.chunks;
  if (headers['grpc-encoding'] !== undefined && r.chance(0.7)) {
    // The compressed flag set, with a real gzip body or junk.
    chunks = chunks.map((chunk) => {
      const body = chunk.subarray(5);
      return grpcFrame(r.chance(0.6) ? gzipSync(body) : body, { flag: 1 });
    });
  }
  const path = r.chance(0.15)
    ? r.pick([
        '/',
        '//',
        '/envoy.service.discovery.v3.AggregatedDiscoveryService/Nope',
        '/x.Y/Z',
        `${base.path}?q=1`,
        '',
      ])
    : base.path;
  // Odd headers may make grpc-js answer with HTTP errors or resets: any end will do, but it must end.
  return {
    kind: 'odd-headers',
    transport: 'h2',
    ownSession: {},
    streams: [{ ...base, path, headers, chunks, expect: base.end === 'cancel' ? 'none' : 'end' }],
  };
}

/** gRPC framing defects: truncated prefixes and bodies, lying lengths, empty frames, many small frames. */
function framing(r: Random, v: Vocabulary): FuzzCase {
  const base = validStream(r, v, 'half-close');
  const frame = base.chunks[0]!;
  const what = r.weighted({
    prefixOnly: 1,
    cutBody: 2,
    emptyMessage: 1,
    zeroFrames: 1,
    manyFrames: 1,
    trailing: 1,
    longLie: 1,
  });
  let chunks: Buffer[] = [frame];
  if (what === 'prefixOnly') chunks = [frame.subarray(0, r.range(1, 4))];
  if (what === 'cutBody') chunks = [frame.subarray(0, r.range(5, frame.length - 1))];
  if (what === 'emptyMessage') chunks = [grpcFrame(Buffer.alloc(0))];
  if (what === 'zeroFrames') chunks = [];
  if (what === 'manyFrames') chunks = Array.from({ length: r.range(2, 300) }, () => frame);
  if (what === 'trailing') chunks = [frame, r.bytes(r.range(1, 4))];
  if (what === 'longLie')
    chunks = [grpcFrame(frame.subarray(5), { length: frame.length + r.range(1, 1_000_000) })];
  return { kind: 'framing', transport: 'h2', streams: [{ ...base, chunks, expect: 'status' }] };
}

/** Many streams opened and reset at once, some after a request. */
function rstStorm(r: Random, v: Vocabulary): FuzzCase {
  const streams: StreamPlan[] = [];
  for (let i = r.range(10, 600); i > 0; i--) {
    const stream = r.chance(0.5) ? validStream(r, v, 'half-close') : { path: adsPath, chunks: [] };
    streams.push({ ...stream, end: 'cancel', holdMs: 0, expect: 'none' });
  }
  return { kind: 'rst-storm', transport: 'h2', ownSession: {}, streams };
}

/** Streams that send headers and nothing else: the server must end them (first-request timeout). */
function headerOnly(r: Random): FuzzCase {
  const path = r.pick([adsPath, ...sotwPaths.map((m) => m.path), ...deltaPaths.map((m) => m.path)]);
  const count = Number(r.weighted({ 1: 3, 20: 2, 150: 1 }));
  const destroy = r.chance(0.3);
  const streams: StreamPlan[] = Array.from({ length: count }, () => ({
    path,
    chunks: [],
    end: 'leave',
    holdMs: destroy ? r.int(500) : 0,
    expect: destroy ? 'none' : 'status',
  }));
  return { kind: 'header-only', transport: 'h2', ownSession: destroy ? { destroy } : {}, streams };
}

/** Past the server's streams-per-connection limit on one connection: each stream must still end with a status. */
function manyStreams(r: Random, v: Vocabulary): FuzzCase {
  const streams = Array.from({ length: r.range(90, 250) }, () => validStream(r, v, 'half-close'));
  return { kind: 'many-streams', transport: 'h2', ownSession: {}, streams };
}

/** A client that subscribes to everything and does not read, with a small or zero window. */
function slowReader(r: Random, v: Vocabulary): FuzzCase {
  const id = Buffer.from(r.pick(['fuzz-envoy', 'fuzz-grpc']));
  const chunks = servedTypes.slice(0, 4).map((typeUrl) => {
    const names = typeUrl.endsWith('Cluster') || typeUrl.endsWith('Listener') ? [] : (v.names[typeUrl] ?? []);
    const fields: WireField[] = [
      { field: 2, wt: 2, value: [{ field: 1, wt: 2, value: id }] },
      { field: 4, wt: 2, value: Buffer.from(typeUrl) },
      ...names.map((name): WireField => ({ field: 3, wt: 2, value: Buffer.from(name) })),
    ];
    return grpcFrame(encodeFields(fields));
  });
  const end = r.weighted({ leave: 2, cancel: 1, 'half-close': 1, unread: 1 });
  return {
    kind: 'slow-reader',
    transport: 'h2',
    ownSession: { initialWindowSize: r.pick([0, 0, 16, 1024, 16_384]) },
    streams: [
      {
        path: adsPath,
        chunks,
        // unread: it half-closes and never reads; the server must still let go of the stream (drain timeout).
        end: end === 'unread' ? 'half-close' : end,
        paused: true,
        ...(end === 'unread' ? { neverRead: true } : {}),
        holdMs: end === 'leave' ? 0 : r.int(1000),
        expect: end === 'cancel' ? 'none' : 'end',
      },
    ],
  };
}
