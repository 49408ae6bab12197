import type { Node, TypeUrl } from '@xds/api';
import type { ConfigWatcher } from './config-watcher.js';
import type { SotwResponse } from './sotw-watch.js';

/** A unary (REST or gRPC Fetch) request. */
export interface FetchRequest {
  /** The node asking. */
  readonly node: Node;
  /** The type asked for. */
  readonly typeUrl: TypeUrl;
  /** `resource_names`; empty asks for the whole type where wildcard is allowed. */
  readonly names: readonly string[];
  /** The version the client holds, if any. */
  readonly versionInfo: string;
}

/**
 * Answers a unary request from a cache: the response, or undefined when the client's version is current (HTTP 304)
 * or the cache has nothing for the node yet.
 */
export function fetchResources(cache: ConfigWatcher, request: FetchRequest): SotwResponse | undefined {
  const watch = cache.watchSotw({
    node: request.node,
    typeUrl: request.typeUrl,
    ads: false,
    onReady: () => {},
  });
  try {
    watch.request({ names: request.names, versionInfo: request.versionInfo, initial: true });
    const response = watch.take();
    if (response === undefined || (request.versionInfo !== '' && response.version === request.versionInfo))
      return undefined;
    return response;
  } finally {
    watch.cancel();
  }
}
