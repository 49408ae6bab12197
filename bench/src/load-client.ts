/**
 * The load clients: Envoy-like ADS streams, SotW or delta. Each subscribes to Clusters and Listeners by
 * wildcard, to the ClusterLoadAssignment of every cluster it got and to the RouteConfiguration of every listener,
 * and ACKs every response (or NACKs the versions it is told to). State is lean: names lists are interned and
 * shared by every client of a worker that holds the same list.
 */
import { createHash } from 'node:crypto';
import { clusterNames, listenerNames } from './resource-names.js';
import { encodeDeltaRequest, encodeNames, encodeSotwRequest, FieldReader } from './wire.js';

/** CDS, EDS, LDS, RDS: the types a client follows, by index. */
export const typeUrls = [
  'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  'type.googleapis.com/envoy.config.listener.v3.Listener',
  'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
] as const;

const [CDS, EDS, LDS, RDS] = [0, 1, 2, 3];

function typeIndex(typeUrl: string): number {
  return typeUrls.indexOf(typeUrl as (typeof typeUrls)[number]);
}

/** Bench versions are `v<N>`; anything else is -1. */
export function versionNumber(version: string): number {
  return version.charCodeAt(0) === 118 ? Number.parseInt(version.slice(1), 10) : -1;
}

/** A sorted, de-duplicated list of names, shared by the clients that hold it. */
export interface NameList {
  readonly names: readonly string[];
  readonly set: ReadonlySet<string>;
  /** The names as SotW `resource_names` (field 3), ready to splice into a request. */
  readonly sotw: Uint8Array;
}

/** ACKs and NACKs in arrival order: client, type (bit 7 set for a NACK), version number, time. */
export class AckLog {
  length = 0;
  client = new Int32Array(1024);
  type = new Uint8Array(1024);
  version = new Int32Array(1024);
  at = new Float64Array(1024);

  push(client: number, type: number, version: number, at: number): void {
    if (this.length === this.client.length) this.#grow();
    const i = this.length++;
    this.client[i] = client;
    this.type[i] = type;
    this.version[i] = version;
    this.at[i] = at;
  }

  #grow(): void {
    const size = this.client.length * 2;
    const client = new Int32Array(size);
    client.set(this.client);
    const type = new Uint8Array(size);
    type.set(this.type);
    const version = new Int32Array(size);
    version.set(this.version);
    const at = new Float64Array(size);
    at.set(this.at);
    Object.assign(this, { client, type, version, at });
  }
}

/** What the clients of one worker share: counters, the latest ACK per client and type, the log, interned names. */
export class ClientPool {
  readonly size: number;
  /** Latest version number ACKed, by client * 4 + type; -1 before any. */
  readonly lastAck: Int32Array;
  /** Latest version number NACKed, by client * 4 + type; -1 before any. */
  readonly lastNack: Int32Array;
  /** 1 for a client whose stream ended with an error: it will not answer anything any more. */
  readonly dead: Uint8Array;
  readonly log = new AckLog();
  nackVersions: ReadonlySet<number> = new Set();
  responses = 0;
  bytes = 0;
  errors = 0;
  lastError = '';
  readonly edsOf = new Map<string, string>();
  readonly routesOf = new Map<string, readonly string[]>();
  /** What was read from the resources of a response, by a hash of those bytes (clients get equal bytes). */
  readonly #parsed = new Map<string, unknown>();
  readonly #interned = new Map<string, NameList>();
  readonly #clock: () => number;

  constructor(size: number, clock: () => number) {
    this.size = size;
    this.lastAck = new Int32Array(size * 4).fill(-1);
    this.lastNack = new Int32Array(size * 4).fill(-1);
    this.dead = new Uint8Array(size);
    this.#clock = clock;
  }

  /** The shared list holding exactly these names. */
  intern(names: Iterable<string>): NameList {
    const sorted = [...new Set(names)].sort();
    const key = sorted.join('\n');
    let list = this.#interned.get(key);
    if (list === undefined) {
      list = { names: sorted, set: new Set(sorted), sotw: encodeNames(3, sorted) };
      this.#interned.set(key, list);
    }
    return list;
  }

  /**
   * `parse()` of the resources in buf[start, stop), computed once per distinct content: every client of a
   * worker receives the same CDS and LDS bytes, and reading a thousand listeners once per client would make the
   * load generator the bottleneck.
   */
  parsed<T>(buf: Buffer, start: number, stop: number, parse: () => T): T {
    if (stop <= start) return parse();
    const key = createHash('sha1').update(buf.subarray(start, stop)).digest('base64');
    let value = this.#parsed.get(key) as T | undefined;
    if (value === undefined) {
      value = parse();
      if (this.#parsed.size >= 256) this.#parsed.clear();
      this.#parsed.set(key, value);
    }
    return value;
  }

  answered(client: number, type: number, version: number, nack: boolean): void {
    (nack ? this.lastNack : this.lastAck)[client * 4 + type] = version;
    this.log.push(client, nack ? type | 0x80 : type, version, this.#clock());
  }
}

/** The minimal stream surface the clients use (a grpc-js ClientDuplexStream). */
export interface Stream {
  write(chunk: Buffer): boolean;
}

const reader = new FieldReader();
const item = new FieldReader();
const resourceReader = new FieldReader();
const empty: NameList = { names: [], set: new Set(), sotw: new Uint8Array(0) };

function sameNames(list: NameList, names: readonly string[]): boolean {
  if (list.names.length !== names.length) return false;
  for (const name of names) if (!list.set.has(name)) return false;
  return true;
}

/** The top-level fields of a (delta) discovery response, and where its resources (field 2) start and stop. */
function scan(buf: Buffer) {
  let version = '';
  let typeUrl = '';
  let nonce = '';
  let first = 0;
  let last = 0;
  reader.reset(buf);
  while (reader.next()) {
    const field = reader.field;
    if (field === 1) version = reader.string();
    else if (field === 2) {
      if (last === 0) first = reader.start;
      last = reader.stop;
    } else if (field === 4) typeUrl = reader.string();
    else if (field === 5) nonce = reader.string();
  }
  return { version, typeUrl, nonce, first, last };
}

/** The names in a delta CDS or LDS response's `Resource { version = 1, resource = 2, name = 3 }` list. */
function readDeltaResources(pool: ClientPool, buf: Buffer, clusters: boolean): string[] {
  const names: string[] = [];
  item.reset(buf);
  while (item.next()) {
    if (item.field !== 2) continue;
    const resource = resourceReader.reset(buf, item.start, item.stop);
    while (resource.next()) {
      if (resource.field !== 2 || resource.wire !== 2) continue;
      if (clusters) {
        const [name, eds] = clusterNames(buf, resource.start, resource.stop);
        pool.edsOf.set(name, eds);
        names.push(name);
      } else {
        const routes: string[] = [];
        const name = listenerNames(buf, resource.start, resource.stop, routes);
        pool.routesOf.set(name, routes);
        names.push(name);
      }
    }
  }
  return names;
}

/** A SotW ADS client (rules S1–S9 from the client side). */
export class SotwClient {
  readonly #pool: ClientPool;
  readonly #index: number;
  readonly #stream: Stream;
  #node: Uint8Array | undefined;
  readonly #nonces = ['', '', '', ''];
  readonly #versions = ['', '', '', ''];
  readonly #subs: (NameList | undefined)[] = [undefined, empty, undefined, empty];

  constructor(pool: ClientPool, index: number, stream: Stream, node: Uint8Array) {
    this.#pool = pool;
    this.#index = index;
    this.#stream = stream;
    this.#node = node;
  }

  /** Subscribes to Clusters and Listeners by wildcard (empty names). */
  start(): void {
    this.#send(CDS, false);
    this.#send(LDS, false);
  }

  onData(buf: Buffer): void {
    const pool = this.#pool;
    pool.responses++;
    pool.bytes += buf.length;
    const { version, typeUrl, nonce, first, last } = scan(buf);
    const t = typeIndex(typeUrl);
    if (t < 0) return;
    const number = versionNumber(version);
    const nack = pool.nackVersions.has(number);
    this.#nonces[t] = nonce;
    let follow = -1;
    if (!nack && (t === CDS || t === LDS)) {
      const names = pool.parsed(buf, first, last, () =>
        t === CDS ? this.#edsNames(buf) : this.#routeNames(buf),
      );
      const target = t === CDS ? EDS : RDS;
      const current = this.#subs[target]!;
      if (!sameNames(current, names)) {
        const next = pool.intern(names);
        if (next !== current) {
          this.#subs[target] = next;
          follow = target;
        }
      }
    }
    if (!nack) this.#versions[t] = version;
    this.#send(t, nack);
    pool.answered(this.#index, t, number, nack);
    if (follow >= 0) this.#send(follow, false);
  }

  #send(t: number, nack: boolean): void {
    this.#stream.write(
      encodeSotwRequest({
        node: this.#node,
        typeUrl: typeUrls[t]!,
        versionInfo: this.#versions[t]!,
        nonce: this.#nonces[t]!,
        names: this.#subs[t]?.sotw,
        nack,
      }),
    );
    this.#node = undefined;
  }

  #edsNames(buf: Buffer): string[] {
    const names: string[] = [];
    item.reset(buf);
    while (item.next()) if (item.field === 2) names.push(clusterNames(buf, item.start, item.stop)[1]);
    return names;
  }

  #routeNames(buf: Buffer): string[] {
    const names: string[] = [];
    item.reset(buf);
    while (item.next()) if (item.field === 2) listenerNames(buf, item.start, item.stop, names);
    return names;
  }
}

/** A delta ADS client (rules D1–D8 from the client side). */
export class DeltaClient {
  readonly #pool: ClientPool;
  readonly #index: number;
  readonly #stream: Stream;
  #node: Uint8Array | undefined;
  /** Clusters, EDS names, listeners, route names held. */
  readonly #held: NameList[] = [empty, empty, empty, empty];

  constructor(pool: ClientPool, index: number, stream: Stream, node: Uint8Array) {
    this.#pool = pool;
    this.#index = index;
    this.#stream = stream;
    this.#node = node;
  }

  /** Subscribes to Clusters and Listeners by wildcard (a first request with both lists empty). */
  start(): void {
    this.#send(CDS, '', false, [], []);
    this.#send(LDS, '', false, [], []);
  }

  onData(buf: Buffer): void {
    const pool = this.#pool;
    pool.responses++;
    pool.bytes += buf.length;
    const { version, typeUrl, nonce, first, last } = scan(buf);
    const t = typeIndex(typeUrl);
    if (t < 0) return;
    const number = versionNumber(version);
    const nack = pool.nackVersions.has(number);
    let follow: { target: number; list: NameList } | undefined;
    if (!nack && (t === CDS || t === LDS)) {
      const held = this.#apply(buf, first, last, this.#held[t]!, t === CDS);
      if (held !== this.#held[t]) {
        this.#held[t] = held;
        const wanted: string[] = [];
        if (t === CDS) for (const name of held.names) wanted.push(pool.edsOf.get(name) ?? name);
        else for (const name of held.names) wanted.push(...(pool.routesOf.get(name) ?? []));
        const target = t === CDS ? EDS : RDS;
        const list = pool.intern(wanted);
        if (list !== this.#held[target]) follow = { target, list };
      }
    }
    this.#send(t, nonce, nack, [], []);
    pool.answered(this.#index, t, number, nack);
    if (follow !== undefined) {
      const before = this.#held[follow.target]!;
      this.#held[follow.target] = follow.list;
      const subscribe = follow.list.names.filter((n) => !before.set.has(n));
      const unsubscribe = before.names.filter((n) => !follow.list.set.has(n));
      this.#send(follow.target, '', false, subscribe, unsubscribe);
    }
  }

  /** The held names after a CDS or LDS delta response. */
  #apply(buf: Buffer, first: number, last: number, held: NameList, clusters: boolean): NameList {
    const pool = this.#pool;
    const next = new Set(held.names);
    item.reset(buf);
    while (item.next()) if (item.field === 6) next.delete(item.string());
    const added = pool.parsed(buf, first, last, () => readDeltaResources(pool, buf, clusters));
    for (const name of added) next.add(name);
    return sameNames(held, [...next]) ? held : pool.intern(next);
  }

  #send(
    t: number,
    nonce: string,
    nack: boolean,
    subscribe: readonly string[],
    unsubscribe: readonly string[],
  ) {
    this.#stream.write(
      encodeDeltaRequest({ node: this.#node, typeUrl: typeUrls[t]!, subscribe, unsubscribe, nonce, nack }),
    );
    this.#node = undefined;
  }
}
