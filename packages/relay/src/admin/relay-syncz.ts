/**
 * `/debug/syncz` of the relay: per downstream node and type what was sent, acked and rejected (rule X4: a NACK is
 * that client's status), against the group's current version; and per group its upstream stream (rule X3).
 */
import { type Node, resourceTypes, type TypeUrl } from '@xds/api';
import { typeLabel } from '@xds/reference-server';
import type { SyncStatus } from '@xds/server';
import type { GroupStatus, Relay } from '../relay.js';

/** One type of one downstream node. */
export interface RelaySynczType {
  readonly type: string;
  readonly typeUrl: TypeUrl;
  readonly status: SyncStatus;
  readonly sentVersion?: string;
  readonly ackedVersion?: string;
  /** The group's current version of the type: the origin's. */
  readonly currentVersion?: string;
  readonly nack?: { readonly version: string; readonly message: string };
  readonly responses: number;
  readonly wildcard: boolean;
  readonly subscribed: readonly string[];
}

/** One downstream node. */
export interface RelaySynczNode {
  readonly nodeId: string;
  readonly group: string;
  readonly userAgent: string;
  readonly streams: number;
  readonly types: readonly RelaySynczType[];
}

/** The body of the relay's `/debug/syncz`. */
export interface RelaySyncz {
  readonly generatedAt: string;
  /** `connected`, `disconnected` (some group serves what it holds without its upstream) or `idle`. */
  readonly upstream: 'connected' | 'disconnected' | 'idle';
  readonly groups: readonly GroupStatus[];
  readonly nodes: readonly RelaySynczNode[];
}

function userAgentOf(node: Node): string {
  const version = node.userAgentVersionType;
  return version.case === 'userAgentVersion' ? `${node.userAgentName} ${version.value}` : node.userAgentName;
}

/** Builds `/debug/syncz`. */
export function relaySyncz(relay: Relay): RelaySyncz {
  const nodes = relay.server.clients().map((client): RelaySynczNode => {
    const group = relay.cache.keyOf(client.node);
    const snapshot = relay.cache.getSnapshot(group);
    const types: RelaySynczType[] = [];
    for (const { typeUrl } of resourceTypes) {
      const state = client.types[typeUrl];
      if (state === undefined) continue;
      const entry: Record<string, unknown> = {
        type: typeLabel(typeUrl),
        typeUrl,
        status: state.status,
        sentVersion: state.sentVersion,
        ackedVersion: state.ackedVersion,
        currentVersion: relay.cache.isReady(group, typeUrl) ? snapshot?.version(typeUrl) : undefined,
        nack: state.nack,
        responses: state.responses,
        wildcard: state.wildcard,
        subscribed: state.subscribed,
      };
      for (const key of Object.keys(entry)) if (entry[key] === undefined) delete entry[key];
      types.push(entry as unknown as RelaySynczType);
    }
    return {
      nodeId: client.nodeId,
      group,
      userAgent: userAgentOf(client.node),
      streams: client.streams,
      types,
    };
  });
  return {
    generatedAt: new Date().toISOString(),
    upstream: relay.upstreamState(),
    groups: relay.groups(),
    nodes,
  };
}
