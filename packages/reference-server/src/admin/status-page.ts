import { createHash } from 'node:crypto';
import type { RegistriesSummary, RegistryView } from '../registries.js';
import { escapeHtml as e } from './html.js';
import { statusScript } from './status-script.js';
import type { ConfigSummary, Syncz, SynczCounts, SynczNode, SynczServer } from './syncz.js';

const style = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d2329; }
h1 { font-size: 1.4rem; margin: 0 0 .25rem; } h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
nav a { margin-right: .75rem; } code { font-size: 13px; }
table { border-collapse: collapse; } th, td { text-align: left; padding: .25rem .6rem; border-bottom: 1px solid #dde1e5; }
thead th { background: #f1f3f5; } tr.node-row th { background: #e7eef7; font-weight: 600; }
.status { font-weight: 600; } .SYNCED { color: #1b7f3b; } .STALE { color: #a36400; }
.NACKED { color: #b3261e; } .NOT_SENT, .PENDING { color: #6b7280; }
.error { border: 1px solid #b3261e; background: #fdecea; padding: .5rem .75rem; margin-top: .75rem; }
.ok { color: #1b7f3b; } .muted { color: #6b7280; }
.counts { font-size: 1.05rem; margin: .75rem 0; } .filter input { width: 22rem; padding: .25rem .4rem; }
pre { background: #f1f3f5; padding: .5rem .75rem; white-space: pre-wrap; } tbody.node[hidden] { display: none; }
`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * The status page's Content-Security-Policy: its one inline style and one inline script are allowed by their
 * SHA-256 hashes, it may fetch from its own origin (`/debug/syncz`), and nothing else loads, frames it or is
 * submitted anywhere. An injected `<script>` or `style` attribute would not run.
 */
export const statusPageContentSecurityPolicy = [
  "default-src 'none'",
  `script-src ${sha256(statusScript)}`,
  `style-src ${sha256(style)}`,
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** `HH:MM:SS` (UTC) of an ISO time, or a dash. */
function clock(iso: string | undefined): string {
  return iso === undefined ? '–' : `${iso.slice(11, 19)} UTC`;
}

/** The config section: file, generation and the current error, if any. */
export function renderConfig(config: ConfigSummary): string {
  const rows = [
    ['file', `<code>${e(config.file)}</code> (${config.source === 'file' ? 'watched' : 'embedded example'})`],
    ['generation', String(config.generation)],
    ['applied', e(clock(config.appliedAt))],
    ['digest', `<code>${e(config.digest)}</code>`],
  ];
  const table = `<table class="kv">${rows.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('')}</table>`;
  const error =
    config.error === undefined
      ? '<p class="ok" id="config-ok">The config file is valid.</p>'
      : `<div class="error" id="config-error"><strong>Config error at ${e(clock(config.error.at))}: the latest change was rejected; still serving generation ${config.generation}.</strong><ul>${config.error.messages.map((m) => `<li><code>${e(m)}</code></li>`).join('')}</ul></div>`;
  return `<h2>Config</h2>${table}${error}`;
}

/** A registry's state: PENDING until it has synced once, STALE while it serves its last known services, else SYNCED. */
export function registryState(registry: RegistryView): 'PENDING' | 'STALE' | 'SYNCED' {
  if (!registry.synced) return 'PENDING';
  return registry.stale ? 'STALE' : 'SYNCED';
}

/**
 * The registries section (absent without `--registry`): per registry its kind, location, state, services,
 * instances, last change and last error; then the hostnames whose ports two registries disagree on.
 */
export function renderRegistries(summary: RegistriesSummary | undefined): string {
  if (summary === undefined) return '';
  const failed =
    summary.generationError === undefined
      ? ''
      : `<div class="error" id="generation-error"><strong>Generation failed at ${e(clock(summary.generationError.at))}:</strong> <code>${e(summary.generationError.message)}</code></div>`;
  if (summary.registries.length === 0) return failed;
  const rows = summary.registries.map((r) => {
    const state = registryState(r);
    const error =
      r.lastError === undefined
        ? ''
        : `${e(r.lastError.message)} <span class="muted">(${e(clock(r.lastError.at))})</span>`;
    return `<tr class="registry" data-kind="${e(r.kind)}" data-state="${state}"><td>${e(r.kind)}</td><td><code>${e(r.location)}</code></td><td class="status ${state}">${state}</td><td>${r.services}</td><td>${r.instances}</td><td>${e(clock(r.lastChange))}</td><td class="registry-error">${error}</td></tr>`;
  });
  const conflicts =
    summary.conflicts.length === 0
      ? ''
      : `<ul id="conflicts">${summary.conflicts.map((c) => `<li><code>${e(c.hostname)}</code>: ${e(c.message)} (ports of ${e(c.kept)} used; ${e(c.ignored)} ignored)</li>`).join('')}</ul>`;
  return `${failed}<h2>Registries (${summary.registries.length})</h2><table><thead><tr><th>kind</th><th>location</th><th>state</th><th>services</th><th>instances</th><th>last change</th><th>last error</th></tr></thead><tbody>${rows.join('')}</tbody></table>${conflicts}`;
}

/** `1d 2h`, `3h 4m`, `5m 6s`, `7s`. */
export function uptimeText(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  return m > 0 ? `${m}m ${s}s` : `${s}s`;
}

/**
 * The xDS connections in the heading: how many are held, and how many were refused by the connection limits
 * (rule L2), by limit: `12 connections · 3 refused (maxConnectionsPerPeer 3)`.
 */
export function renderConnections(connections: SynczServer['connections']): string {
  if (connections === undefined) return '';
  const refused = Object.entries(connections.refused).filter(([, n]) => (n ?? 0) > 0);
  const total = refused.reduce((sum, [, n]) => sum + (n ?? 0), 0);
  const detail =
    refused.length === 0 ? '' : ` (${refused.map(([limit, n]) => `${e(limit)} ${n}`).join(', ')})`;
  return `${connections.open} connection${connections.open === 1 ? '' : 's'} · ${total} refused${detail}`;
}

/**
 * Request messages partly received in the heading (rule L2): the bytes their headers announced against
 * `limits.maxPartialRequestBytesTotal`, and how many were refused: `unfinished requests 16.0 of 256.0 MiB · 3 refused`.
 */
export function renderPartialRequests(partial: SynczServer['partialRequests']): string {
  if (partial === undefined) return '';
  const mib = (bytes: number) => (bytes / 1048576).toFixed(1);
  const refused =
    partial.refused.maxPartialRequestBytesTotal + partial.refused.maxPartialRequestBytesPerConnection;
  return `unfinished requests ${mib(partial.reservedBytes)} of ${mib(partial.limitBytes)} MiB · ${refused} refused`;
}

/** The counts at the top: nodes, and how many are SYNCED / STALE / NACKED. */
export function renderCounts(counts: SynczCounts): string {
  return `<b>${counts.nodes}</b> nodes · <span class="SYNCED"><b>${counts.SYNCED}</b> SYNCED</span> · <span class="STALE"><b>${counts.STALE}</b> STALE</span> · <span class="NACKED"><b>${counts.NACKED}</b> NACKED</span>`;
}

/** How many NACKED node ids the line under the counts names (the rest are counted). */
export const nackedListed = 50;

/** Under the counts: the NACKED nodes' ids (the first {@link nackedListed}), each a link to its config_dump. */
export function renderNacked(nodes: readonly SynczNode[]): string {
  const nacked = nodes.filter((n) => n.status === 'NACKED');
  if (nacked.length === 0) return '';
  const links = nacked
    .slice(0, nackedListed)
    .map(
      (n) => `<a href="${e(`/debug/config_dump?node=${encodeURIComponent(n.nodeId)}`)}">${e(n.nodeId)}</a>`,
    );
  const more = nacked.length > nackedListed ? ` and ${nacked.length - nackedListed} more` : '';
  return `<span class="NACKED">NACKED:</span> ${links.join(', ')}${more}`;
}

function renderNode(node: SynczNode): string {
  const href = `/debug/config_dump?node=${encodeURIComponent(node.nodeId)}`;
  const head = `<tr class="node-row"><th colspan="7"><a class="node-id" href="${e(href)}">${e(node.nodeId)}</a> <span class="status ${node.status}">${node.status}</span> <span class="muted">· ${e(node.key)} · ${e(node.userAgent || 'no user agent')} · ${node.streams} stream(s)</span></th></tr>`;
  const rows = node.types.map(
    (t) =>
      `<tr><td>${e(t.type)}</td><td class="status ${t.status}">${t.status.replace('_', ' ')}</td><td><code>${e(t.sentVersion ?? '–')}</code></td><td><code>${e(t.ackedVersion ?? '–')}</code></td><td><code>${e(t.currentVersion ?? '–')}</code></td><td>${e(clock(t.lastSentAt))}</td><td class="nack">${e(t.nack?.message ?? '')}</td></tr>`,
  );
  const types = node.types.map((t) => t.type).join(' ');
  return `<tbody class="node" data-node="${e(node.nodeId)}" data-status="${node.status}" data-types="${e(types)}">${head}${rows.join('')}</tbody>`;
}

/** What to do when no client is connected: a gRPC bootstrap for this server's address, and the examples. */
export function renderConnect(xdsAddress: string): string {
  const bootstrap = `{ "xds_servers": [{ "server_uri": "${xdsAddress}", "channel_creds": [{ "type": "insecure" }], "server_features": ["xds_v3"] }],\n  "node": { "id": "my-app" } }`;
  return `<div id="connect"><p>No xDS client is connected. Point one at <code>${e(xdsAddress)}</code>:</p><ul><li>a proxyless gRPC application: <code>GRPC_XDS_BOOTSTRAP=bootstrap.json</code> with<pre>${e(bootstrap)}</pre>(the repository's <code>examples/grpc/bootstrap.json</code>);</li><li>Envoy: <code>envoy -c examples/envoy/bootstrap-ads-sotw.yaml</code> (ADS, state of the world; its <code>xds_cluster</code> points at <code>127.0.0.1:18000</code>: change it to this address if it differs).</li></ul></div>`;
}

/**
 * The nodes section: one block per listed node (NACKED first), one row per type, and how many more are connected
 * than listed (`total`, see syncz.ts maxNodesShown); or how to connect one.
 */
export function renderNodes(nodes: readonly SynczNode[], xdsAddress: string, total = nodes.length): string {
  if (total === 0) return `<h2>Connected nodes (0)</h2>${renderConnect(xdsAddress)}`;
  const more =
    total > nodes.length
      ? `<p id="nodes-omitted">${total - nodes.length} more nodes are connected; the first ${nodes.length} are listed (NACKED first, then STALE).</p>`
      : '';
  return `<h2>Connected nodes (${total})</h2>${more}<table><thead><tr><th>type</th><th>status</th><th>sent</th><th>acked</th><th>current</th><th>last push</th><th>NACK message</th></tr></thead>${nodes.map(renderNode).join('')}</table>`;
}

/** The parts of `/debug/syncz` that every status page shows. */
export type StatusView = Pick<Syncz, 'generatedAt' | 'server' | 'counts' | 'nodes'>;

/** What makes one command's status page differ from another's. */
export interface StatusPageOptions {
  /** The command's name: the page's title and heading (`xds-server`, `xds-relay`). */
  readonly title: string;
  /** The pages the navigation links to (`/debug/syncz`, `/metrics`, …), named by their last path segment. */
  readonly links: readonly string[];
  /** The command's own sections (HTML, escaped), between the counts and the nodes. */
  readonly sections: string;
}

/** The links of `xds-server`'s page. */
const serverLinks = [
  '/debug/syncz',
  '/debug/adsz',
  '/debug/configz',
  '/debug/cdsz',
  '/debug/edsz',
  '/metrics',
];

/**
 * A status page at `/`: the counts, the command's own sections, and per connected node (NACKED first) and type
 * SYNCED / STALE / NACKED (with the client's message) / NOT SENT, with a filter box. Rendered here; a small script
 * refreshes it from `/debug/syncz` and filters it. Shared by `xds-server` and `xds-relay`.
 */
export function renderStatusFrame(view: StatusView, xdsAddress: string, page: StatusPageOptions): string {
  const nav = page.links
    .map((link) => `<a href="${e(link)}">${e(link.split('/').at(-1) ?? link)}</a>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${e(page.title)}</title><style>${style}</style></head>
<body data-rendered="server" data-xds="${e(xdsAddress)}">
<h1>${e(page.title)}</h1>
<p class="muted">version <span id="version">${e(view.server.version)}</span> · up <span id="uptime">${uptimeText(view.server.uptimeSeconds)}</span> · xDS on <code>${e(xdsAddress)}</code>${view.server.connections === undefined ? '' : ` · <span id="connections">${renderConnections(view.server.connections)}</span>`}${view.server.partialRequests === undefined ? '' : ` · <span id="partial-requests">${renderPartialRequests(view.server.partialRequests)}</span>`} · updated <span id="updated">${e(clock(view.generatedAt))}</span></p>
<nav>${nav}</nav>
<p id="counts" class="counts">${renderCounts(view.counts)}</p>
<p id="nacked">${renderNacked(view.nodes)}</p>
${page.sections}
<p class="filter"><input id="filter" type="search" placeholder="filter by node id or type" aria-label="filter nodes by id or type"> <span id="shown" class="muted"></span></p>
<section id="nodes">${renderNodes(view.nodes, xdsAddress, view.counts.nodes)}</section>
<script>${statusScript}</script>
</body></html>
`;
}

/** `xds-server`'s status page: {@link renderStatusFrame} with the config and the registries as its own sections. */
export function renderStatusPage(view: Syncz, xdsAddress: string): string {
  return renderStatusFrame(view, xdsAddress, {
    title: 'xds-server',
    links: serverLinks,
    sections: `<section id="config">${renderConfig(view.config)}</section>
<section id="registries">${renderRegistries(view.registries)}</section>`,
  });
}
