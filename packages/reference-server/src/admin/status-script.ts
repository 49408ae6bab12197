/**
 * The status page's script: every two seconds it fetches `/debug/syncz` and renders the config and nodes
 * sections again, the same way `status-page.ts` does on the server, then marks `<body data-rendered="client">`.
 */
export const statusScript = `
(() => {
  const e = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  const clock = (iso) => (iso === undefined ? '–' : iso.slice(11, 19) + ' UTC');
  const renderConfig = (c) => {
    const rows = [
      ['file', '<code>' + e(c.file) + '</code> (' + (c.source === 'file' ? 'watched' : 'embedded example') + ')'],
      ['generation', String(c.generation)],
      ['applied', e(clock(c.appliedAt))],
      ['digest', '<code>' + e(c.digest) + '</code>'],
    ];
    const table = '<table class="kv">' + rows.map(([k, v]) => '<tr><th>' + k + '</th><td>' + v + '</td></tr>').join('') + '</table>';
    const error = c.error === undefined
      ? '<p class="ok" id="config-ok">The config file is valid.</p>'
      : '<div class="error" id="config-error"><strong>Config error at ' + e(clock(c.error.at)) + ': the latest change was rejected; still serving generation ' + c.generation + '.</strong><ul>' + c.error.messages.map((m) => '<li><code>' + e(m) + '</code></li>').join('') + '</ul></div>';
    return '<h2>Config</h2>' + table + error;
  };
  const renderNode = (n) => {
    const head = '<tr class="node-row"><th colspan="7"><span class="node-id">' + e(n.nodeId) + '</span> <span class="muted">· ' + e(n.key) + ' · ' + e(n.userAgent || 'no user agent') + ' · ' + n.streams + ' stream(s)</span></th></tr>';
    const rows = n.types.map((t) => '<tr><td>' + e(t.type) + '</td><td class="status ' + t.status + '">' + t.status.replace('_', ' ') + '</td><td><code>' + e(t.sentVersion ?? '–') + '</code></td><td><code>' + e(t.ackedVersion ?? '–') + '</code></td><td><code>' + e(t.currentVersion ?? '–') + '</code></td><td>' + e(clock(t.lastSentAt)) + '</td><td class="nack">' + e(t.nack ? t.nack.message : '') + '</td></tr>');
    return '<tbody class="node" data-node="' + e(n.nodeId) + '">' + head + rows.join('') + '</tbody>';
  };
  const renderNodes = (nodes) => nodes.length === 0
    ? '<h2>Connected nodes (0)</h2><p class="muted">No xDS client is connected.</p>'
    : '<h2>Connected nodes (' + nodes.length + ')</h2><table><thead><tr><th>type</th><th>status</th><th>sent</th><th>acked</th><th>current</th><th>last push</th><th>NACK message</th></tr></thead>' + nodes.map(renderNode).join('') + '</table>';
  const refresh = async () => {
    try {
      const response = await fetch('/debug/syncz', { cache: 'no-store' });
      if (!response.ok) return;
      const view = await response.json();
      document.getElementById('config').innerHTML = renderConfig(view.config);
      document.getElementById('nodes').innerHTML = renderNodes(view.nodes);
      document.getElementById('updated').textContent = clock(view.generatedAt);
      document.body.dataset.rendered = 'client';
    } catch {
      document.body.dataset.rendered = 'offline';
    }
  };
  void refresh();
  setInterval(refresh, 2000);
})();
`;
