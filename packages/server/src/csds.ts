/**
 * The body of a CSDS answer (envoy.service.status.v3): each matching node's per-type, per-resource status, built
 * from the same stream state as `XdsServer.clients()` (rule S5). Node matchers run in RE2 (rule L3); resource
 * contents carry no sensitive field (rule L6, `redactBytes`); who may ask is decided in csds-service.ts (rule L6).
 */
import { create } from '@bufbuild/protobuf';
import { AnySchema, timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  type ClientConfig_GenericXdsConfig,
  ClientConfigSchema,
  ClientResourceStatus,
  type ClientStatusRequest,
  type ClientStatusResponse,
  ClientStatusResponseSchema,
  Code,
  ConfigStatus,
  redactBytes,
  XdsError,
} from '@xds/api';
import type { DeltaWatch, SotwWatch } from '@xds/cache';
import { defaultLimits, type ResolvedLimits } from './limits.js';
import type { StreamHandle } from './stream-context.js';
import { compileStringMatcher } from './string-matcher.js';
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

/** Compiles the request's node matchers once; a node matches when any matcher does (or there are none). */
function nodeFilter(request: ClientStatusRequest, limits: StatusLimits): (nodeId: string) => boolean {
  const matchers = request.nodeMatchers;
  if (matchers.length > limits.maxStatusMatchers) {
    throw new XdsError(
      Code.InvalidArgument,
      `the request has ${matchers.length} node matchers, more than limits.maxStatusMatchers (${limits.maxStatusMatchers})`,
    );
  }
  if (matchers.length === 0) return () => true;
  const compiled = matchers.map((m, i) =>
    compileStringMatcher(
      m.nodeId,
      `node_matchers[${i}].node_id`,
      limits.maxRegexBytes,
      limits.maxRegexProgramSize,
    ),
  );
  return (nodeId) => compiled.some((matches) => matches(nodeId));
}

/** The per-resource configs of one type of one stream. */
function typeConfigs(state: TypeState, withContents: boolean): ClientConfig_GenericXdsConfig[] {
  const watch = state.watch as SotwWatch | DeltaWatch;
  const held = 'sent' in watch ? watch.sent : watch.known;
  const status = configStatus[state.status];
  const lastUpdated = state.sentAt === undefined ? undefined : timestampFromMs(state.sentAt);
  const out: ClientConfig_GenericXdsConfig[] = [];
  const names = new Set([...held.keys(), ...watch.subscribed]);
  for (const name of names) {
    const version = held.get(name);
    const entry = watch.lookup(name);
    let clientStatus = ClientResourceStatus.REQUESTED;
    if (version !== undefined) {
      clientStatus =
        state.status === 'NACKED'
          ? ClientResourceStatus.NACKED
          : state.status === 'SYNCED'
            ? ClientResourceStatus.ACKED
            : ClientResourceStatus.REQUESTED;
    } else if (state.sentNonce !== undefined && entry === undefined) {
      clientStatus = ClientResourceStatus.DOES_NOT_EXIST;
    }
    out.push({
      $typeName: 'envoy.service.status.v3.ClientConfig.GenericXdsConfig',
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
      errorState:
        state.nack === undefined
          ? undefined
          : {
              $typeName: 'envoy.admin.v3.UpdateFailureState',
              details: state.nack.message,
              versionInfo: state.nack.version,
              lastUpdateAttempt: timestampFromMs(state.nack.at),
              failedConfiguration: undefined,
            },
      isStaticResource: false,
    });
  }
  return out;
}

/** The limits that bound a CSDS request (a part of the server's `limits`, rules L2 and L3). */
export type StatusLimits = Pick<
  ResolvedLimits,
  'maxRegexBytes' | 'maxRegexProgramSize' | 'maxStatusMatchers'
>;

/**
 * The CSDS answer: one ClientConfig per matching node, built from the same state as `clients()`. Node matchers'
 * regexes run in RE2 (rule L3). Throws an XdsError (INVALID_ARGUMENT) for a regex RE2 rejects or a request past
 * `limits`.
 */
export function clientStatus(
  streams: Iterable<StreamHandle>,
  request: ClientStatusRequest,
  limits: StatusLimits = defaultLimits,
): ClientStatusResponse {
  const matches = nodeFilter(request, limits);
  const byNode = new Map<string, StreamHandle[]>();
  for (const stream of streams) {
    if (stream.node === undefined || !matches(stream.nodeId)) continue;
    const list = byNode.get(stream.nodeId) ?? [];
    list.push(stream);
    byNode.set(stream.nodeId, list);
  }
  const config = [...byNode.values()].map((list) =>
    create(ClientConfigSchema, {
      node: list[0]!.node!,
      genericXdsConfigs: list.flatMap((s) =>
        [...s.types.values()].flatMap((t) => typeConfigs(t, !request.excludeResourceContents)),
      ),
    }),
  );
  return create(ClientStatusResponseSchema, { config });
}
