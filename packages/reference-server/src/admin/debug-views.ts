/**
 * The JSON debug views of the admin server (`/debug/adsz`, `configz`, `edsz`, `config_dump`). Every view that
 * prints resource contents redacts the fields Envoy's protos mark sensitive (rule L6).
 */
import { create, type JsonValue, toBinary, toJson } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import {
  ClientConfigSchema,
  ClientResourceStatus,
  ClusterLoadAssignmentSchema,
  type Node,
  NodeSchema,
  redact,
  redactBytes,
  resourceTypes,
  TypeUrl,
  xdsRegistry,
} from '@xds/api';
import { cutForDisplay } from '@xds/server';
import { typeLabel } from '../type-labels.js';
import type { AdminContext } from './admin-context.js';
import { type Route, sendJson } from './http-admin.js';
import { configSummary, maxNamesShown, maxNodesShown, maxNodeTextShown, userAgentOf } from './syncz.js';

/** The most bytes of a node `/debug/adsz` prints whole; a larger one is shown by id (config_dump has it all). */
export const maxNodeBytesShown = 64 * 1024;

/** A node as `/debug/adsz` prints it: whole up to {@link maxNodeBytesShown} on the wire, else its id and size. */
function shownNode(node: Node): JsonValue {
  const bytes = toBinary(NodeSchema, node).length;
  if (bytes <= maxNodeBytesShown) return toJson(NodeSchema, node, { registry: xdsRegistry });
  return {
    id: cutForDisplay(node.id, maxNodeTextShown),
    omitted: `${bytes} bytes, more than ${maxNodeBytesShown}: see /debug/config_dump?node=ID`,
  };
}

/**
 * `/debug/adsz`: the connected clients (the first {@link maxNodesShown}; `totalClients` counts them all), their node
 * and their subscriptions; what a client sent is shown cut (probe7 N5).
 */
export function adsz(ctx: AdminContext): JsonValue {
  const all = ctx.xds.clients({ maxSubscribedNames: maxNamesShown });
  const clients = all.slice(0, maxNodesShown).map((client) => ({
    nodeId: cutForDisplay(client.nodeId, maxNodeTextShown),
    key: cutForDisplay(ctx.cache.keyOf(client.node), maxNodeTextShown),
    userAgent: cutForDisplay(userAgentOf(client.node), maxNodeTextShown),
    node: shownNode(client.node),
    streams: client.streams,
    streamIds: [...client.streamIds],
    subscriptions: Object.fromEntries(
      resourceTypes
        .filter(({ typeUrl }) => client.types[typeUrl] !== undefined)
        .map(({ typeUrl }) => {
          const state = client.types[typeUrl]!;
          return [
            typeLabel(typeUrl),
            { wildcard: state.wildcard, names: [...state.subscribed], count: state.subscribedCount },
          ];
        }),
    ),
  }));
  return { totalClients: all.length, clients };
}

/** `/debug/configz`: the model file being served, where it came from, the current error, and the registries. */
export function configz(ctx: AdminContext): JsonValue {
  const state = ctx.config();
  const registries = ctx.registries?.();
  return JSON.parse(JSON.stringify({ ...configSummary(state), model: state.model, registries })) as JsonValue;
}

/** `/debug/edsz`: every snapshot key's ClusterLoadAssignments, as proto3 JSON, sensitive fields redacted (rule L6). */
export function edsz(ctx: AdminContext): JsonValue {
  const out: Record<string, JsonValue> = {};
  for (const key of ctx.cache.keys().sort()) {
    const snapshot = ctx.cache.getSnapshot(key);
    if (snapshot === undefined) continue;
    const assignments: Record<string, JsonValue> = {};
    for (const [name, assignment] of snapshot.resources(TypeUrl.Endpoint))
      assignments[name] = toJson(
        ClusterLoadAssignmentSchema,
        redact(ClusterLoadAssignmentSchema, assignment),
        {
          registry: xdsRegistry,
        },
      );
    out[key] = { version: snapshot.version(TypeUrl.Endpoint), clusterLoadAssignments: assignments };
  }
  return out;
}

/**
 * `/debug/config_dump?node=ID`: the snapshot a node is served, as an `envoy.service.status.v3.ClientConfig` in
 * proto3 JSON: one generic xDS config per resource, with its version and, when the node is connected, whether it
 * ACKed or NACKed it, and the NACK's message as `errorState`. `ID` is a connected node's id or a snapshot key
 * (`envoy`, `grpc`). Undefined when neither.
 * Private keys and every other field marked sensitive read `[redacted]` (rule L6, `redactBytes` of `@xds/api`).
 */
export function configDump(ctx: Pick<AdminContext, 'xds' | 'cache'>, id: string): JsonValue | undefined {
  const client = ctx.xds.clientOf(id);
  const key = client === undefined ? id : ctx.cache.keyOf(client.node);
  const snapshot = ctx.cache.getSnapshot(key);
  if (snapshot === undefined) return undefined;
  const genericXdsConfigs = snapshot.typeUrls().flatMap((typeUrl) => {
    const version = snapshot.version(typeUrl);
    const state = client?.types[typeUrl];
    const subscribed = new Set(state?.subscribed);
    return [...snapshot.entries(typeUrl).values()].map((entry) => {
      let clientStatus = ClientResourceStatus.UNKNOWN;
      if (state !== undefined && (state.wildcard || subscribed.has(entry.name))) {
        if (state.status === 'NACKED' && state.nack?.version === version)
          clientStatus = ClientResourceStatus.NACKED;
        else if (state.ackedVersion === version) clientStatus = ClientResourceStatus.ACKED;
        else clientStatus = ClientResourceStatus.REQUESTED;
      }
      // The client's latest rejection of this type, as CSDS reports it (until the client accepts again).
      const nack = clientStatus === ClientResourceStatus.UNKNOWN ? undefined : state?.nack;
      return {
        typeUrl,
        name: entry.name,
        versionInfo: version,
        xdsConfig: create(AnySchema, { typeUrl, value: redactBytes(typeUrl, entry.bytes) }),
        clientStatus,
        ...(nack === undefined
          ? {}
          : {
              errorState: { details: nack.message, versionInfo: nack.version },
            }),
      };
    });
  });
  const config = create(ClientConfigSchema, {
    ...(client === undefined ? {} : { node: client.node }),
    genericXdsConfigs,
  });
  return toJson(ClientConfigSchema, config, { registry: xdsRegistry });
}

/**
 * The `/debug/config_dump?node=ID` page (400 without a node, 404 for an unknown one), for any server and cache:
 * `xds-server`'s and `xds-relay`'s.
 */
export function configDumpPage(ctx: Pick<AdminContext, 'xds' | 'cache'>): Route {
  return (url, response) => {
    const node = url.searchParams.get('node');
    if (node === null || node === '') {
      sendJson(response, 400, { error: 'give a node id or snapshot key: /debug/config_dump?node=ID' });
      return;
    }
    const dump = configDump(ctx, node);
    if (dump === undefined) sendJson(response, 404, { error: `no connected node or snapshot key "${node}"` });
    else sendJson(response, 200, dump);
  };
}
