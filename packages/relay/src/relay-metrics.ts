/**
 * The relay's Prometheus metrics: the xDS server's own (`pilot_xds`, `pilot_xds_pushes`, rejects, …, shared with
 * `xds-server` through `createMetrics`) plus the upstream side: groups, connected upstream streams, upstream updates
 * and NACKs. `xds_relay_upstream_connected` is 0 while a group has no upstream (rule X3: it serves what it holds).
 * The downstream server's bounds show as `xds-server`'s do (rule L2): pending streams and streams ended by a limit,
 * connections, and request messages partly received against `limits.maxPartialRequestBytesTotal`. The relay-wide
 * bounds show as names and resource bytes across groups beside their limits, and refusals by limit (relay-budget.ts).
 */
import { createMetrics, type Metrics } from '@xds/reference-server';
import { Counter, Gauge } from 'prom-client';
import type { Relay } from './relay.js';

/** The relay's metrics. */
export interface RelayMetrics extends Metrics {
  /** `xds_relay_upstream_updates_total{type}`: upstream responses applied. */
  readonly upstreamUpdates: Counter<'type'>;
  /** `xds_relay_upstream_nacks_total{type}`: upstream responses the relay could not decode. */
  readonly upstreamNacks: Counter<'type'>;
  /** `xds_relay_groups_refused_total{limit}`: downstream streams refused for a new group past a limit. */
  readonly groupsRefused: Counter<'limit'>;
}

/** Creates the metrics of a relay in a registry of their own. */
export function createRelayMetrics(relay: Relay): RelayMetrics {
  const base = createMetrics({
    connectedClients: () => relay.server.clientCount(),
    configErrors: () => 0,
    writeBudget: () => relay.server.writeBudget(),
    streams: () => relay.server.streamStats(),
    connections: () => relay.server.connectionStats(),
    partialRequests: () => relay.server.partialRequestStats(),
  });
  const registers = [base.registry];
  new Gauge({
    name: 'xds_relay_groups',
    help: 'Groups of downstream nodes the relay serves, each with one upstream stream.',
    registers,
    collect() {
      this.set(relay.groupCounts().groups);
    },
  });
  new Gauge({
    name: 'xds_relay_groups_idle',
    help: 'Groups without downstream clients, kept (holding no resources) for --group-idle-ms; they count toward the limit.',
    registers,
    collect() {
      this.set(relay.groupCounts().idle);
    },
  });
  new Gauge({
    name: 'xds_relay_groups_limit',
    help: 'The most groups the relay holds (--max-groups); a node of one more group is refused.',
    registers,
    collect() {
      this.set(relay.groupCounts().maxGroups);
    },
  });
  new Gauge({
    name: 'xds_relay_upstream_connections',
    help: "Upstream HTTP/2 connections the groups' streams use (--groups-per-connection each at most).",
    registers,
    collect() {
      this.set(relay.groupCounts().upstreamConnections);
    },
  });
  new Gauge({
    name: 'xds_relay_upstream_connected_groups',
    help: 'Groups whose upstream stream is connected.',
    registers,
    collect() {
      this.set(relay.groups().filter((g) => g.connected).length);
    },
  });
  new Gauge({
    name: 'xds_relay_upstream_connected',
    help: '1 when every group has its upstream (or there is no group), 0 while one serves what it holds without.',
    registers,
    collect() {
      this.set(relay.upstreamState() === 'disconnected' ? 0 : 1);
    },
  });
  const bound = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });
  bound(
    'xds_relay_names',
    "Names in every group's subscriptions of every type, together.",
    () => relay.bounds().names,
  );
  bound(
    'xds_relay_names_limit',
    'The most names across groups (--max-names-all-groups); a downstream stream that would pass it is refused.',
    () => relay.bounds().maxNamesAllGroups,
  );
  bound(
    'xds_relay_name_bytes',
    "Bytes of the names in every group's subscriptions of every type, together.",
    () => relay.bounds().nameBytes,
  );
  bound(
    'xds_relay_name_bytes_limit',
    'The most bytes of names across groups (--max-name-bytes-all-groups); a downstream stream past it is refused.',
    () => relay.bounds().maxNameBytesAllGroups,
  );
  bound(
    'xds_relay_resource_bytes',
    "Encoded bytes of the resources every group's upstream client holds, together.",
    () => relay.bounds().resourceBytes,
  );
  bound(
    'xds_relay_resource_bytes_limit',
    'The most resource bytes across groups (--max-resource-bytes-all-groups); past it resources are NACKed upstream.',
    () => relay.bounds().maxResourceBytesAllGroups,
  );
  new Gauge({
    name: 'xds_relay_bound_refusals',
    help:
      'Refusals since start by relay bound: downstream streams (maxNamesPerGroup, maxNamesAllGroups), upstream ' +
      'resources and new groups (maxResourceBytesAllGroups).',
    labelNames: ['limit'],
    registers,
    collect() {
      for (const [limit, count] of Object.entries(relay.bounds().refused)) this.set({ limit }, count);
    },
  });
  return {
    ...base,
    upstreamUpdates: new Counter({
      name: 'xds_relay_upstream_updates_total',
      help: 'Upstream responses accepted and applied, by type.',
      labelNames: ['type'],
      registers,
    }),
    upstreamNacks: new Counter({
      name: 'xds_relay_upstream_nacks_total',
      help: 'Upstream responses NACKed (a resource that does not decode, or past an upstream limit), by type.',
      labelNames: ['type'],
      registers,
    }),
    groupsRefused: new Counter({
      name: 'xds_relay_groups_refused_total',
      help: 'Downstream streams refused because they would open a group past a limit (maxGroups, maxNewGroupsPerSecond, maxResourceBytesAllGroups, maxGroupsPerPeer, maxNewGroupsPerSecondPerPeer).',
      labelNames: ['limit'],
      registers,
    }),
  };
}
