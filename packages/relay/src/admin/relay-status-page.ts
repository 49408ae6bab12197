/**
 * The relay's status page at `/`: `xds-server`'s page (`renderStatusFrame`: counts, NACKED nodes, every downstream
 * node's status per type, the filter, the refreshing script, the same Content-Security-Policy) with the relay's own
 * section, its upstream: whether every group's stream is connected (rule X3) and per group the upstream node, server,
 * downstream watches and the origin's versions (rule X1). The nodes refresh every two seconds; the upstream section
 * is as of the page's load.
 */
import type { TypeUrl } from '@xds/api';
import { escapeHtml as e, renderStatusFrame, typeLabel } from '@xds/reference-server';
import type { GroupCounts } from '../group-admission.js';
import type { RelayBounds } from '../relay-budget.js';
import type { GroupStatus } from '../relay-options.js';
import type { RelaySyncz } from './relay-syncz.js';

/** The pages the relay's navigation links to. */
export const relayLinks: readonly string[] = ['/debug/syncz', '/metrics', '/readyz'];

/** How many groups the upstream section lists (the rest are counted; `/debug/syncz` has them all). */
export const groupsListed = 100;

const stateClass = { connected: 'SYNCED', disconnected: 'NACKED', idle: 'NOT_SENT' } as const;

function renderGroup(group: GroupStatus): string {
  const versions = Object.entries(group.versions)
    .map(([typeUrl, version]) => `${e(typeLabel(typeUrl as TypeUrl))} <code>${e(version ?? '')}</code>`)
    .join(' · ');
  const state = group.connected ? 'connected' : 'disconnected';
  return `<tr><td>${e(group.group)}</td><td><code>${e(group.upstreamNodeId)}</code></td><td><code>${e(group.upstream ?? '–')}</code></td><td class="status ${stateClass[state]}">${state}</td><td>${group.watches}</td><td>${versions || '–'}</td></tr>`;
}

/** One line: the groups held against the limit, idle ones, and refusals (rule L2). */
function renderCounts(counts: GroupCounts): string {
  const refused = Object.entries(counts.refused);
  const total = refused.reduce((sum, [, count]) => sum + count, 0);
  return (
    `<p id="group-counts">${counts.groups} of at most ${counts.maxGroups} groups (${counts.idle} idle) on ` +
    `${counts.upstreamConnections} upstream connections; new groups at most ${counts.maxNewGroupsPerSecond} a second; ` +
    `a peer's share ${counts.maxGroupsPerPeer} groups and ${counts.maxNewGroupsPerSecondPerPeer} new a second; ` +
    `${total} refused (${refused.map(([limit, count]) => `${limit} ${count}`).join(', ')})</p>`
  );
}

/** One line: names and resource bytes across groups against the relay-wide bounds, and their refusals (rule L2). */
function renderBounds(bounds: RelayBounds): string {
  return (
    `<p id="relay-bounds">${bounds.names} of at most ${bounds.maxNamesAllGroups} names (${bounds.nameBytes} of at ` +
    `most ${bounds.maxNameBytesAllGroups} bytes) and ${bounds.resourceBytes} of at most ` +
    `${bounds.maxResourceBytesAllGroups} resource bytes across groups; refused: ` +
    `${Object.entries(bounds.refused)
      .map(([limit, count]) => `${limit} ${count}`)
      .join(', ')}</p>`
  );
}

/** The upstream section: the relay's upstream state, its group counts and its groups. */
export function renderUpstream(
  view: Pick<RelaySyncz, 'upstream' | 'groups' | 'groupCounts' | 'bounds'>,
): string {
  const head = `<h2>Upstream: <span id="upstream-state" class="status ${stateClass[view.upstream]}">${view.upstream}</span></h2>${renderCounts(view.groupCounts)}${renderBounds(view.bounds)}`;
  if (view.groups.length === 0)
    return `${head}<p class="muted">No group yet: the first downstream client opens its group's upstream stream.</p>`;
  const rows = view.groups.slice(0, groupsListed).map(renderGroup).join('');
  const more =
    view.groups.length > groupsListed
      ? `<p class="muted">and ${view.groups.length - groupsListed} more groups in <a href="/debug/syncz">/debug/syncz</a></p>`
      : '';
  return `${head}<table><thead><tr><th>group</th><th>upstream node</th><th>server</th><th>stream</th><th>watches</th><th>origin versions</th></tr></thead>${rows}</table>${more}`;
}

/** The relay's status page. */
export function renderRelayStatusPage(view: RelaySyncz, xdsAddress: string): string {
  return renderStatusFrame(view, xdsAddress, {
    title: 'xds-relay',
    links: relayLinks,
    sections: `<section id="upstream">${renderUpstream(view)}</section>`,
  });
}
