// Rule S15: on an ADS stream, a type URL the server does not know is a subscription to a type with no resources,
// not a reason to end the stream: an Envoy that subscribes to a type newer than this server (or one the application
// has not registered) must not lose Clusters, Listeners and the rest with it. Its watch reads an empty source, so
// SotW answers with an empty response at the version of the empty set, and delta lists the subscribed names in
// `removed_resources` (rule D3), with ACKs, NACKs and nonces as for any type. A per-type service still refuses a
// foreign type (rule S1).
import {
  type ConfigWatcher,
  DeltaWatch,
  type ResourceView,
  SotwWatch,
  TypeHash,
  type WatchOptions,
  type WatchSource,
} from '@xds/cache';

/** The longest type URL accepted for a type the server does not know (a registered type's bound too). */
export const maxUnknownTypeUrlLength = 512;

const emptyView: ResourceView = Object.freeze({
  version: TypeHash.empty().toString(),
  entries: new Map(),
  ttl: () => undefined,
});

const emptySource: WatchSource = {
  view: () => emptyView,
  wildcardCapable: () => false,
  completeness: 'subset',
  subscriptionChanged: () => {},
  release: () => {},
};

/** Watches of types the server does not know: always empty, never notified. */
export const unknownTypes: ConfigWatcher = {
  watchSotw: (options: WatchOptions) => new SotwWatch(emptySource, options.node.id, options),
  watchDelta: (options: WatchOptions) => new DeltaWatch(emptySource, options.node.id, options),
};

/** The version of a type with no resources: what a SotW response to an unknown type carries. */
export const emptyTypeVersion: string = emptyView.version;

/** True when a string may name a type URL (`host/package.Type`), for a type the server does not know. */
export function plausibleTypeUrl(typeUrl: string): boolean {
  return typeUrl.length <= maxUnknownTypeUrlLength && /^[^\s/]+(\/[^\s/]+)*\/[A-Za-z_][\w.]*$/.test(typeUrl);
}
