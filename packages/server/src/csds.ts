import { create } from '@bufbuild/protobuf';
import { AnySchema, timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  type ClientConfig_GenericXdsConfig,
  ClientConfigSchema,
  ClientResourceStatus,
  type ClientStatusRequest,
  type ClientStatusResponse,
  ClientStatusResponseSchema,
  ConfigStatus,
  type NodeMatcher,
  type StringMatcher,
} from '@xds/api';
import type { DeltaWatch, SotwWatch } from '@xds/cache';
import type { StreamHandle } from './stream-context.js';
import type { SyncStatus, TypeState } from './type-state.js';

const configStatus: Record<SyncStatus, ConfigStatus> = {
  SYNCED: ConfigStatus.SYNCED,
  NOT_SENT: ConfigStatus.NOT_SENT,
  STALE: ConfigStatus.STALE,
  NACKED: ConfigStatus.ERROR,
};

/** True when a string matches an Envoy StringMatcher (exact, prefix, suffix, contains, regex). */
export function matchesString(matcher: StringMatcher | undefined, value: string): boolean {
  if (matcher === undefined) return true;
  const subject = matcher.ignoreCase ? value.toLowerCase() : value;
  const pattern = matcher.matchPattern;
  const text = (s: string) => (matcher.ignoreCase ? s.toLowerCase() : s);
  switch (pattern.case) {
    case 'exact':
      return subject === text(pattern.value);
    case 'prefix':
      return subject.startsWith(text(pattern.value));
    case 'suffix':
      return subject.endsWith(text(pattern.value));
    case 'contains':
      return subject.includes(text(pattern.value));
    case 'safeRegex':
      try {
        return new RegExp(`^(?:${pattern.value.regex})$`).test(value);
      } catch {
        return false;
      }
    default:
      return true;
  }
}

function matches(matchers: readonly NodeMatcher[], nodeId: string): boolean {
  return matchers.length === 0 || matchers.some((m) => matchesString(m.nodeId, nodeId));
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
          ? create(AnySchema, { typeUrl: entry.typeUrl, value: entry.bytes })
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

/** The CSDS answer: one ClientConfig per matching node, built from the same state as `clients()`. */
export function clientStatus(
  streams: Iterable<StreamHandle>,
  request: ClientStatusRequest,
): ClientStatusResponse {
  const byNode = new Map<string, StreamHandle[]>();
  for (const stream of streams) {
    if (stream.node === undefined || !matches(request.nodeMatchers, stream.nodeId)) continue;
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
