/**
 * The body of a CSDS answer (envoy.service.status.v3): each matching node's per-type, per-resource status, built
 * from the same stream state as `XdsServer.clients()` (rule S5). A node matches a node matcher when its id and all
 * of its `node_metadatas` do (as in Envoy), regexes in RE2 (rule L3); resource contents carry no sensitive field
 * (rule L6, `redactBytes`); who may ask is decided in csds-service.ts (rule L6).
 *
 * One answer is bounded while it is built, not after (rule L2): each entry is encoded as it is made and counted
 * against `limits.maxStatusConfigs` and `maxStatusBytes`, and subscribed names with no resource are listed up to
 * `maxStatusUnknownNames` per stream and type, the rest counted in one entry. The build runs in slices
 * (status-slices.ts) that give way to other clients: a client holding 100,000 names cannot stall the server.
 */
import { create, fromBinary, type JsonObject, toBinary } from '@bufbuild/protobuf';
import { AnySchema, timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  type ClientConfig_GenericXdsConfig,
  ClientConfig_GenericXdsConfigSchema,
  ClientResourceStatus,
  type ClientStatusRequest,
  type ClientStatusResponse,
  ClientStatusResponseSchema,
  Code,
  ConfigStatus,
  type Node,
  NodeSchema,
  redactBytes,
  UpdateFailureStateSchema,
  XdsError,
} from '@xds/api';
import type { DeltaWatch, EncodedResource, SotwWatch } from '@xds/cache';
import { defaultLimits, type ResolvedLimits } from './limits.js';
import { type StatusSlices, statusSlices } from './status-slices.js';
import type { StreamHandle } from './stream-context.js';
import { compileStringMatcher } from './string-matcher.js';
import { compileStructMatcher, type MatcherBudget, spendRegex } from './struct-matcher.js';
import type { SyncStatus, TypeState } from './type-state.js';

const configStatus: Record<SyncStatus, ConfigStatus> = {
  SYNCED: ConfigStatus.SYNCED,
  NOT_SENT: ConfigStatus.NOT_SENT,
  STALE: ConfigStatus.STALE,
  NACKED: ConfigStatus.ERROR,
};

/**
 * Resource bytes with every sensitive field redacted (rule L6), remembered per encoding: snapshot entries are
 * immutable and shared by every node served the same snapshot, so each is redacted once.
 */
const redactedByBytes = new WeakMap<Uint8Array, Uint8Array>();
function redacted(typeUrl: string, bytes: Uint8Array): Uint8Array {
  let out = redactedByBytes.get(bytes);
  if (out === undefined) {
    out = redactBytes(typeUrl, bytes);
    redactedByBytes.set(bytes, out);
  }
  return out;
}

/** The limits that bound a CSDS request and its answer (a part of the server's `limits`, rules L2 and L3). */
export type StatusLimits = Pick<
  ResolvedLimits,
  | 'maxRegexBytes'
  | 'maxRegexProgramSize'
  | 'maxStatusMatchers'
  | 'maxNodeMetadataDepth'
  | 'maxStatusConfigs'
  | 'maxStatusBytes'
  | 'maxStatusUnknownNames'
>;

/**
 * Compiles the request's node matchers once; a node matches when any matcher does (or there are none), and a
 * matcher when its node id matcher and every one of its `node_metadatas` do.
 */
function nodeFilter(request: ClientStatusRequest, limits: StatusLimits): (node: Node) => boolean {
  const matchers = request.nodeMatchers;
  if (matchers.length > limits.maxStatusMatchers) {
    throw new XdsError(
      Code.InvalidArgument,
      `the request has ${matchers.length} node matchers, more than limits.maxStatusMatchers (${limits.maxStatusMatchers})`,
    );
  }
  if (matchers.length === 0) return () => true;
  const budget: MatcherBudget = { regexes: 0 };
  const compiled = matchers.map((m, i) => {
    const what = `node_matchers[${i}]`;
    if (m.nodeId?.matchPattern.case === 'safeRegex') spendRegex(budget, limits, `${what}.node_id`);
    const id = compileStringMatcher(
      m.nodeId,
      `${what}.node_id`,
      limits.maxRegexBytes,
      limits.maxRegexProgramSize,
    );
    const metadata = m.nodeMetadatas.map((s, j) =>
      compileStructMatcher(s, `${what}.node_metadatas[${j}]`, limits, budget),
    );
    return (node: Node) => id(node.id) && metadata.every((matches) => matches(node.metadata as JsonObject));
  });
  return (node) => compiled.some((matches) => matches(node));
}

/** Protobuf wire helpers: a varint, and the key of a length-delimited field. */
function varint(value: number): Uint8Array {
  const out: number[] = [];
  let v = value;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Uint8Array.from(out);
}
function lengthDelimited(field: number, length: number): Uint8Array {
  const len = varint(length);
  const out = new Uint8Array(1 + len.length);
  out[0] = (field << 3) | 2;
  out.set(len, 1);
  return out;
}

/** Field numbers: ClientStatusResponse.config, ClientConfig.node, ClientConfig.generic_xds_configs. */
const responseConfig = 1;
const configNode = 1;
const configGeneric = 3;

/** The limits that bound an answer while it is built. */
export type StatusLimit = 'maxStatusConfigs' | 'maxStatusBytes';

/** The encoded parts of one answer and what they cost against the limits. */
class Answer {
  readonly #limits: StatusLimits;
  readonly #limitReached: (limit: StatusLimit) => void;
  configs = 0;
  bytes = 0;

  constructor(limits: StatusLimits, limitReached: (limit: StatusLimit) => void = () => {}) {
    this.#limits = limits;
    this.#limitReached = limitReached;
  }

  /** Counts `bytes` more, refusing past `limits.maxStatusBytes`. */
  spend(bytes: number): void {
    this.bytes += bytes;
    if (this.bytes > this.#limits.maxStatusBytes) {
      this.#limitReached('maxStatusBytes');
      throw new XdsError(
        Code.ResourceExhausted,
        `the answer would be larger than limits.maxStatusBytes (${this.#limits.maxStatusBytes} bytes): ask for fewer nodes (node_matchers) or set exclude_resource_contents`,
      );
    }
  }

  /** Encodes one entry into `parts`, refusing past `limits.maxStatusConfigs` or `maxStatusBytes`. */
  add(parts: Uint8Array[], config: ClientConfig_GenericXdsConfig): void {
    this.configs++;
    if (this.configs > this.#limits.maxStatusConfigs) {
      this.#limitReached('maxStatusConfigs');
      throw new XdsError(
        Code.ResourceExhausted,
        `the answer would hold more than limits.maxStatusConfigs (${this.#limits.maxStatusConfigs}) resource entries: ask for fewer nodes (node_matchers)`,
      );
    }
    const body = toBinary(ClientConfig_GenericXdsConfigSchema, config);
    const key = lengthDelimited(configGeneric, body.length);
    this.spend(key.length + body.length);
    parts.push(key, body);
  }
}

/** Appends the per-resource entries of one type of one stream to `parts`. */
async function typeConfigs(
  state: TypeState,
  withContents: boolean,
  limits: StatusLimits,
  answer: Answer,
  parts: Uint8Array[],
  slices: StatusSlices,
): Promise<void> {
  const watch = state.watch as SotwWatch | DeltaWatch;
  const held = 'sent' in watch ? watch.sent : watch.known;
  const status = configStatus[state.status];
  const lastUpdated = state.sentAt === undefined ? undefined : timestampFromMs(state.sentAt);
  const errorState =
    state.nack === undefined
      ? undefined
      : create(UpdateFailureStateSchema, {
          details: state.nack.message,
          versionInfo: state.nack.version,
          lastUpdateAttempt: timestampFromMs(state.nack.at),
        });
  const unheldStatus =
    state.sentNonce === undefined ? ClientResourceStatus.REQUESTED : ClientResourceStatus.DOES_NOT_EXIST;
  const entryOf = (
    name: string,
    clientStatus: ClientResourceStatus,
    version?: string,
    entry?: EncodedResource,
  ) =>
    create(ClientConfig_GenericXdsConfigSchema, {
      typeUrl: state.typeUrl,
      name,
      versionInfo: version ?? '',
      xdsConfig:
        withContents && entry !== undefined && entry.version === version
          ? create(AnySchema, { typeUrl: entry.typeUrl, value: redacted(entry.typeUrl, entry.bytes) })
          : undefined,
      lastUpdated,
      configStatus: status,
      clientStatus,
      errorState,
      isStaticResource: false,
    });
  let unknownListed = 0;
  let unknownMore = 0;
  const list = (name: string, version: string | undefined) => {
    const entry = watch.lookup(name);
    if (entry === undefined) {
      // Rule L2: a name with no resource is worth an entry up to the cap, and a count after it.
      if (unknownListed >= limits.maxStatusUnknownNames) {
        unknownMore++;
        return;
      }
      unknownListed++;
    }
    let clientStatus = ClientResourceStatus.REQUESTED;
    if (version !== undefined) {
      clientStatus =
        state.status === 'NACKED'
          ? ClientResourceStatus.NACKED
          : state.status === 'SYNCED'
            ? ClientResourceStatus.ACKED
            : ClientResourceStatus.REQUESTED;
    } else if (entry === undefined) {
      clientStatus = unheldStatus;
    }
    answer.add(parts, entryOf(name, clientStatus, version, entry));
  };
  for (const name of held.keys()) {
    if (slices.due()) await slices.pause();
    list(name, held.get(name));
  }
  for (const name of watch.subscribed) {
    if (slices.due()) await slices.pause();
    if (held.get(name) === undefined) list(name, undefined);
  }
  if (unknownMore > 0) {
    const note = `[${unknownMore} more subscribed names with no resource, not listed: limits.maxStatusUnknownNames is ${limits.maxStatusUnknownNames}]`;
    answer.add(parts, entryOf(note, unheldStatus));
  }
}

/** How a build runs: what tells it that its caller left (to stop early), and how long a slice may take. */
export interface StatusBuildOptions {
  /** True once the caller is gone: the build stops at its next slice (CANCELLED). */
  readonly abandoned?: () => boolean;
  /** The longest run without giving way to other work (ms); default 4. */
  readonly sliceMs?: number;
  /** Called when the answer goes past a limit (before the build rejects), to count it. */
  readonly limitReached?: (limit: StatusLimit) => void;
}

/**
 * The CSDS answer, encoded: one ClientConfig per matching node, built from the same state as `clients()`, in slices
 * that give way to other work. Rejects with an XdsError: INVALID_ARGUMENT for a regex RE2 rejects or matchers past
 * `limits`, RESOURCE_EXHAUSTED naming `limits.maxStatusConfigs` or `maxStatusBytes` for an answer past them.
 */
export async function clientStatusBytes(
  streams: Iterable<StreamHandle>,
  request: ClientStatusRequest,
  limits: StatusLimits = defaultLimits,
  options: StatusBuildOptions = {},
): Promise<Uint8Array> {
  const matches = nodeFilter(request, limits);
  const slices = statusSlices(options.sliceMs ?? 4, options.abandoned);
  const byNode = new Map<string, StreamHandle[]>();
  for (const stream of [...streams]) {
    if (slices.due()) await slices.pause();
    if (stream.node === undefined) continue;
    let list = byNode.get(stream.nodeId);
    if (list === undefined) {
      if (!matches(stream.node)) continue;
      list = [];
      byNode.set(stream.nodeId, list);
    }
    list.push(stream);
  }
  const answer = new Answer(limits, options.limitReached);
  const out: Uint8Array[] = [];
  for (const list of byNode.values()) {
    const node = toBinary(NodeSchema, list[0]!.node!);
    const parts: Uint8Array[] = [lengthDelimited(configNode, node.length), node];
    answer.spend(parts[0]!.length + node.length);
    for (const stream of list)
      for (const state of stream.types.values())
        await typeConfigs(state, !request.excludeResourceContents, limits, answer, parts, slices);
    let length = 0;
    for (const part of parts) length += part.length;
    const key = lengthDelimited(responseConfig, length);
    answer.spend(key.length);
    out.push(key, ...parts);
  }
  return Buffer.concat(out);
}

/**
 * The CSDS answer as a message (see {@link clientStatusBytes}, which the server sends as it is): one ClientConfig
 * per matching node. Rejects with an XdsError as `clientStatusBytes` does.
 */
export async function clientStatus(
  streams: Iterable<StreamHandle>,
  request: ClientStatusRequest,
  limits: StatusLimits = defaultLimits,
  options: StatusBuildOptions = {},
): Promise<ClientStatusResponse> {
  return fromBinary(ClientStatusResponseSchema, await clientStatusBytes(streams, request, limits, options));
}
