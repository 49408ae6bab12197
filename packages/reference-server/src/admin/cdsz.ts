// `/debug/cdsz`: the clusters each node gets, beside `/debug/edsz` (the endpoints), as Istio's pilot has both.
import { type JsonValue, toJson } from '@bufbuild/protobuf';
import { ClusterSchema, TypeUrl, xdsRegistry } from '@xds/api';
import { cutForDisplay } from '@xds/server';
import type { AdminContext } from './admin-context.js';
import { maxNodesShown, maxNodeTextShown } from './syncz.js';

/**
 * `/debug/cdsz`: per snapshot key, the connected nodes served from it, the CDS version and every Cluster as proto3
 * JSON. A node gets the clusters of its key (`/debug/config_dump?node=ID` shows one node's whole config).
 */
export function cdsz(ctx: AdminContext): JsonValue {
  const nodesByKey = new Map<string, string[]>();
  for (const client of ctx.xds.clients({ maxSubscribedNames: 0 })) {
    const key = ctx.cache.keyOf(client.node);
    const ids = nodesByKey.get(key) ?? [];
    ids.push(client.nodeId);
    nodesByKey.set(key, ids);
  }
  const out: Record<string, JsonValue> = {};
  for (const key of ctx.cache.keys().sort()) {
    const snapshot = ctx.cache.getSnapshot(key);
    if (snapshot === undefined) continue;
    const clusters: Record<string, JsonValue> = {};
    for (const [name, cluster] of snapshot.resources(TypeUrl.Cluster))
      clusters[name] = toJson(ClusterSchema, cluster, { registry: xdsRegistry });
    // The first maxNodesShown ids, cut for display (probe7 N5); nodeCount counts them all.
    const ids = (nodesByKey.get(key) ?? []).sort();
    out[key] = {
      version: snapshot.version(TypeUrl.Cluster) ?? null,
      nodeCount: ids.length,
      nodes: ids.slice(0, maxNodesShown).map((id) => cutForDisplay(id, maxNodeTextShown)),
      clusters,
    };
  }
  return out;
}
