import { createHash } from 'node:crypto';
import { escapeHtml as e } from './html.js';
import { statusScript } from './status-script.js';
import type { ConfigSummary, Syncz, SynczNode } from './syncz.js';

const style = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d2329; }
h1 { font-size: 1.4rem; margin: 0 0 .25rem; } h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
nav a { margin-right: .75rem; } code { font-size: 13px; }
table { border-collapse: collapse; } th, td { text-align: left; padding: .25rem .6rem; border-bottom: 1px solid #dde1e5; }
thead th { background: #f1f3f5; } tr.node-row th { background: #e7eef7; font-weight: 600; }
.status { font-weight: 600; } .SYNCED { color: #1b7f3b; } .STALE { color: #a36400; }
.NACKED { color: #b3261e; } .NOT_SENT { color: #6b7280; }
.error { border: 1px solid #b3261e; background: #fdecea; padding: .5rem .75rem; margin-top: .75rem; }
.ok { color: #1b7f3b; } .muted { color: #6b7280; }
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

function renderNode(node: SynczNode): string {
  const head = `<tr class="node-row"><th colspan="7"><span class="node-id">${e(node.nodeId)}</span> <span class="muted">· ${e(node.key)} · ${e(node.userAgent || 'no user agent')} · ${node.streams} stream(s)</span></th></tr>`;
  const rows = node.types.map(
    (t) =>
      `<tr><td>${e(t.type)}</td><td class="status ${t.status}">${t.status.replace('_', ' ')}</td><td><code>${e(t.sentVersion ?? '–')}</code></td><td><code>${e(t.ackedVersion ?? '–')}</code></td><td><code>${e(t.currentVersion ?? '–')}</code></td><td>${e(clock(t.lastSentAt))}</td><td class="nack">${e(t.nack?.message ?? '')}</td></tr>`,
  );
  return `<tbody class="node" data-node="${e(node.nodeId)}">${head}${rows.join('')}</tbody>`;
}

/** The nodes section: one block per connected node, one row per type. */
export function renderNodes(nodes: readonly SynczNode[]): string {
  if (nodes.length === 0)
    return '<h2>Connected nodes (0)</h2><p class="muted">No xDS client is connected.</p>';
  return `<h2>Connected nodes (${nodes.length})</h2><table><thead><tr><th>type</th><th>status</th><th>sent</th><th>acked</th><th>current</th><th>last push</th><th>NACK message</th></tr></thead>${nodes.map(renderNode).join('')}</table>`;
}

/**
 * The status page at `/`: the config and its error, and per connected node and type SYNCED / STALE / NACKED
 * (with the client's message) / NOT SENT. Rendered here; a small script refreshes it from `/debug/syncz`.
 */
export function renderStatusPage(view: Syncz, xdsAddress: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>xds-server</title><style>${style}</style></head>
<body data-rendered="server">
<h1>xds-server</h1>
<p class="muted">xDS on <code>${e(xdsAddress)}</code> · updated <span id="updated">${e(clock(view.generatedAt))}</span></p>
<nav><a href="/debug/syncz">syncz</a><a href="/debug/adsz">adsz</a><a href="/debug/configz">configz</a><a href="/debug/edsz">edsz</a><a href="/metrics">metrics</a></nav>
<section id="config">${renderConfig(view.config)}</section>
<section id="nodes">${renderNodes(view.nodes)}</section>
<script>${statusScript}</script>
</body></html>
`;
}
