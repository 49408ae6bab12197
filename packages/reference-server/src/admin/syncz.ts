import { type Node, resourceTypes, type TypeUrl } from '@xds/api';
import { formatModelError, type ModelError } from '@xds/generator';
import {
  type ConnectionStats,
  cutForDisplay,
  type PartialRequestStats,
  type SyncStatus,
  type XdsServer,
} from '@xds/server';
import type { ConfigState } from '../config-state.js';
import type { RegistriesSummary } from '../registries.js';
import { typeLabel } from '../type-labels.js';
import type { AdminContext } from './admin-context.js';

/** One type of one node in `/debug/syncz`. */
export interface SynczType {
  /** `cds`, `eds`, `lds`, `rds`, … */
  readonly type: string;
  readonly typeUrl: TypeUrl;
  /** SYNCED, STALE (sent, not answered yet), NACKED or NOT_SENT. */
  readonly status: SyncStatus;
  readonly sentVersion?: string;
  readonly sentNonce?: string;
  readonly ackedVersion?: string;
  /** The version of the node's current snapshot: what the node should end up with. */
  readonly currentVersion?: string;
  /** The client's latest rejection (until it accepts a response again). */
  readonly nack?: { readonly version: string; readonly message: string };
  /** When the latest response went out (ISO 8601). */
  readonly lastSentAt?: string;
  /** When the client last accepted a response (ISO 8601). */
  readonly lastAckAt?: string;
  readonly responses: number;
  readonly wildcard: boolean;
  /** The names subscribed explicitly: the first {@link maxNamesShown} of them. */
  readonly subscribed: readonly string[];
  /** How many names are subscribed explicitly (more than `subscribed` shows when it was capped). */
  readonly subscribedCount: number;
}

/**
 * Subscribed names a debug view copies per node and type (`/debug/syncz`, `/debug/adsz`, the status page): a client
 * may hold 100,000 names per stream (rule L2), and each view shows the count beside the names it kept.
 */
export const maxNamesShown = 1000;

/**
 * The most nodes `/debug/syncz` and the status page list (NACKED first, then STALE), and the bytes kept of each
 * node's id, snapshot key and user agent (rule L2: what a client sends is shown cut, and says so). Every node is
 * counted; the rest are not listed: 6,178 streams of one peer with 4 KiB ids made a 373 MB page that held the event
 * loop 8.3 s, and a 53 MB syncz that the open page fetched every 2 s (probe7 N5).
 */
export const maxNodesShown = 1000;
export const maxNodeTextShown = 256;

/** A node's status: NACKED when any type is, else STALE when any type waits for an answer, else SYNCED. */
export type NodeStatus = 'NACKED' | 'STALE' | 'SYNCED';

/** One connected node in `/debug/syncz`. */
export interface SynczNode {
  readonly nodeId: string;
  /** The worst status of its types (NOT_SENT types count as SYNCED: nothing is owed to the node). */
  readonly status: NodeStatus;
  /** The snapshot key the node is served from (`envoy` or `grpc`). */
  readonly key: string;
  /** `user_agent_name` and version. */
  readonly userAgent: string;
  readonly streams: number;
  /** Its types, in ADS push order. */
  readonly types: readonly SynczType[];
}

/** The served config as the status page and `/debug/syncz` show it. */
export interface ConfigSummary {
  readonly file: string;
  readonly source: 'file' | 'embedded';
  readonly generation: number;
  /** ISO 8601. */
  readonly appliedAt: string;
  readonly digest: string;
  /** The latest change's errors, when it could not be applied. */
  readonly error?: {
    /** ISO 8601. */
    readonly at: string;
    readonly errors: readonly ModelError[];
    /** Each error on one line: `file:line:column: path: message`. */
    readonly messages: readonly string[];
  };
}

/** How many nodes are connected, and how many are in each status. */
export interface SynczCounts {
  readonly nodes: number;
  readonly SYNCED: number;
  readonly STALE: number;
  readonly NACKED: number;
}

/** The server itself: its version, how long it has run, and its xDS connections. */
export interface SynczServer {
  /** The package version of `@xds/reference-server`. */
  readonly version: string;
  /** ISO 8601. */
  readonly startedAt: string;
  readonly uptimeSeconds: number;
  /**
   * The xDS listener's connections: held, distinct peers, and refused by each connection limit since start
   * (`limits.maxConnections`, `limits.maxConnectionsPerPeer`; rule L2).
   */
  readonly connections?: ConnectionStats;
  /**
   * Request messages partly received (rule L2): the bytes their headers announced, held now against
   * `limits.maxPartialRequestBytesTotal`, the peak, and the messages refused by each limit since start.
   */
  readonly partialRequests?: PartialRequestStats;
}

/** The body of `/debug/syncz`. */
export interface Syncz {
  /** ISO 8601. */
  readonly generatedAt: string;
  readonly server: SynczServer;
  readonly counts: SynczCounts;
  readonly config: ConfigSummary;
  /**
   * NACKED nodes first, then STALE, then SYNCED; by node id within each: the first {@link maxNodesShown} of
   * `counts.nodes`.
   */
  readonly nodes: readonly SynczNode[];
  /** The service registries (`--registry`) and their port conflicts; absent when the server has none. */
  readonly registries?: RegistriesSummary;
}

const statusOrder: Record<NodeStatus, number> = { NACKED: 0, STALE: 1, SYNCED: 2 };

function nodeStatus(types: readonly SynczType[]): NodeStatus {
  if (types.some((t) => t.status === 'NACKED')) return 'NACKED';
  if (types.some((t) => t.status === 'STALE')) return 'STALE';
  return 'SYNCED';
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** Drops undefined fields, for JSON that is the same whether or not a field is present. */
function defined<T extends object>(value: { readonly [K in keyof T]-?: T[K] | undefined }): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** `gRPC Node 1.14.1`, `envoy 1.31.0`, or the name alone. */
export function userAgentOf(node: Node): string {
  const version = node.userAgentVersionType;
  return version.case === 'userAgentVersion' ? `${node.userAgentName} ${version.value}` : node.userAgentName;
}

/** The config part of the status page. */
export function configSummary(state: ConfigState): ConfigSummary {
  return defined<ConfigSummary>({
    file: state.file,
    source: state.source,
    generation: state.generation,
    appliedAt: new Date(state.appliedAt).toISOString(),
    digest: state.digest,
    error:
      state.error === undefined
        ? undefined
        : {
            at: new Date(state.error.at).toISOString(),
            errors: state.error.errors,
            messages: state.error.errors.map(formatModelError),
          },
  });
}

/** What {@link synczNodes} reads: the xDS server's clients, and the snapshot key and current version behind each. */
export interface SynczSource {
  readonly xds: Pick<XdsServer, 'clients'>;
  /** The snapshot key (or relay group) a node is served from. */
  readonly keyOf: (node: Node) => string;
  /** The version the nodes of `key` should end up with, when known. */
  readonly currentVersion: (key: string, typeUrl: TypeUrl) => string | undefined;
}

/**
 * Per connected node and type, what was sent, acked and rejected, NACKED nodes first, and the counts: the part of
 * `/debug/syncz` that `xds-server` and `xds-relay` share.
 */
export function synczNodes(source: SynczSource): { nodes: SynczNode[]; counts: SynczCounts } {
  const nodes = source.xds.clients({ maxSubscribedNames: maxNamesShown }).map((client): SynczNode => {
    const key = source.keyOf(client.node);
    const types: SynczType[] = [];
    for (const { typeUrl } of resourceTypes) {
      const state = client.types[typeUrl];
      if (state === undefined) continue;
      types.push(
        defined<SynczType>({
          type: typeLabel(typeUrl),
          typeUrl,
          status: state.status,
          sentVersion: state.sentVersion,
          sentNonce: state.sentNonce,
          ackedVersion: state.ackedVersion,
          currentVersion: source.currentVersion(key, typeUrl),
          nack: state.nack,
          lastSentAt: iso(state.lastSentAt),
          lastAckAt: iso(state.lastAckAt),
          responses: state.responses,
          wildcard: state.wildcard,
          subscribed: state.subscribed,
          subscribedCount: state.subscribedCount,
        }),
      );
    }
    return {
      nodeId: client.nodeId,
      status: nodeStatus(types),
      key,
      userAgent: userAgentOf(client.node),
      streams: client.streams,
      types,
    };
  });
  nodes.sort((a, b) => statusOrder[a.status] - statusOrder[b.status] || (a.nodeId < b.nodeId ? -1 : 1));
  const counts = { nodes: nodes.length, SYNCED: 0, STALE: 0, NACKED: 0 };
  for (const node of nodes) counts[node.status]++;
  return { nodes: nodes.slice(0, maxNodesShown).map(cutNodeText), counts };
}

/**
 * The server part of `/debug/syncz`: a version, how long the process has run, and the xDS server's connections
 * (`XdsServer.connectionStats()`) and request messages partly received (`XdsServer.partialRequestStats()`) when
 * given.
 */
export function synczServer(
  version: string,
  startedAt: number,
  now = Date.now(),
  connections?: ConnectionStats,
  partialRequests?: PartialRequestStats,
): SynczServer {
  return {
    version,
    startedAt: new Date(startedAt).toISOString(),
    uptimeSeconds: Math.floor((now - startedAt) / 1000),
    ...(connections === undefined ? {} : { connections }),
    ...(partialRequests === undefined ? {} : { partialRequests }),
  };
}

/** A listed node with its client-sent text cut for display. */
function cutNodeText(node: SynczNode): SynczNode {
  const cut = (text: string) => cutForDisplay(text, maxNodeTextShown);
  return {
    ...node,
    nodeId: cut(node.nodeId),
    key: cut(node.key),
    userAgent: cut(node.userAgent),
  };
}

/** `/debug/syncz`: per connected node and type, what was sent, acked and rejected. */
export function syncz(ctx: AdminContext): Syncz {
  const { nodes, counts } = synczNodes({
    xds: ctx.xds,
    keyOf: (node) => ctx.cache.keyOf(node),
    currentVersion: (key, typeUrl) => ctx.cache.getSnapshot(key)?.version(typeUrl),
  });
  const now = Date.now();
  const registries = ctx.registries?.();
  return {
    generatedAt: new Date(now).toISOString(),
    server: synczServer(
      ctx.version,
      ctx.startedAt,
      now,
      ctx.xds.connectionStats(),
      ctx.xds.partialRequestStats(),
    ),
    counts,
    config: configSummary(ctx.config()),
    nodes,
    ...(registries === undefined ||
    (registries.registries.length === 0 && registries.generationError === undefined)
      ? {}
      : { registries }),
  };
}
