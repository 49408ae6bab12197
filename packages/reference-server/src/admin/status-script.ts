/**
 * The status page's script: every two seconds it fetches `/debug/syncz` and renders the counts, config, registries
 * and nodes sections again, the same way `status-page.ts` does on the server, then marks `<body data-rendered="client">`
 * (and `data-render-ms`, the time from navigation to that render). The filter box hides the nodes whose id and
 * types do not contain its text; it runs in the page, on every keystroke and after every refresh, and its text is
 * kept in the URL's fragment (`/#node-42`), so that a filtered view can be linked.
 */
export const statusScript = `
(() => {
  const e = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  const clock = (iso) => (iso === undefined ? '–' : iso.slice(11, 19) + ' UTC');
  const uptime = (t) => {
    const d = Math.floor(t / 86400), h = Math.floor((t % 86400) / 3600), m = Math.floor((t % 3600) / 60), s = t % 60;
    return d > 0 ? d + 'd ' + h + 'h' : h > 0 ? h + 'h ' + m + 'm' : m > 0 ? m + 'm ' + s + 's' : s + 's';
  };
  const renderCounts = (c) => '<b>' + c.nodes + '</b> nodes · <span class="SYNCED"><b>' + c.SYNCED + '</b> SYNCED</span> · <span class="STALE"><b>' + c.STALE + '</b> STALE</span> · <span class="NACKED"><b>' + c.NACKED + '</b> NACKED</span>';
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
  const registryState = (r) => (!r.synced ? 'PENDING' : r.stale ? 'STALE' : 'SYNCED');
  const renderRegistries = (summary) => {
    if (summary === undefined) return '';
    const failed = summary.generationError === undefined ? '' : '<div class="error" id="generation-error"><strong>Generation failed at ' + e(clock(summary.generationError.at)) + ':</strong> <code>' + e(summary.generationError.message) + '</code></div>';
    if (summary.registries.length === 0) return failed;
    const rows = summary.registries.map((r) => {
      const state = registryState(r);
      const error = r.lastError === undefined ? '' : e(r.lastError.message) + ' <span class="muted">(' + e(clock(r.lastError.at)) + ')</span>';
      return '<tr class="registry" data-kind="' + e(r.kind) + '" data-state="' + state + '"><td>' + e(r.kind) + '</td><td><code>' + e(r.location) + '</code></td><td class="status ' + state + '">' + state + '</td><td>' + r.services + '</td><td>' + r.instances + '</td><td>' + e(clock(r.lastChange)) + '</td><td class="registry-error">' + error + '</td></tr>';
    });
    const conflicts = summary.conflicts.length === 0 ? '' : '<ul id="conflicts">' + summary.conflicts.map((c) => '<li><code>' + e(c.hostname) + '</code>: ' + e(c.message) + ' (ports of ' + e(c.kept) + ' used; ' + e(c.ignored) + ' ignored)</li>').join('') + '</ul>';
    return failed + '<h2>Registries (' + summary.registries.length + ')</h2><table><thead><tr><th>kind</th><th>location</th><th>state</th><th>services</th><th>instances</th><th>last change</th><th>last error</th></tr></thead><tbody>' + rows.join('') + '</tbody></table>' + conflicts;
  };
  const renderConnections = (c) => {
    const refused = Object.entries(c.refused).filter(([, n]) => (n ?? 0) > 0);
    const total = refused.reduce((sum, [, n]) => sum + (n ?? 0), 0);
    const detail = refused.length === 0 ? '' : ' (' + refused.map(([limit, n]) => e(limit) + ' ' + n).join(', ') + ')';
    return c.open + ' connection' + (c.open === 1 ? '' : 's') + ' · ' + total + ' refused' + detail;
  };
  const renderPartialRequests = (p) => {
    const mib = (bytes) => (bytes / 1048576).toFixed(1);
    const refused = p.refused.maxPartialRequestBytesTotal + p.refused.maxPartialRequestBytesPerConnection;
    return 'unfinished requests ' + mib(p.reservedBytes) + ' of ' + mib(p.limitBytes) + ' MiB · ' + refused + ' refused';
  };
  const renderNacked = (nodes) => {
    const nacked = nodes.filter((n) => n.status === 'NACKED');
    if (nacked.length === 0) return '';
    const links = nacked.slice(0, 50).map((n) => '<a href="' + e('/debug/config_dump?node=' + encodeURIComponent(n.nodeId)) + '">' + e(n.nodeId) + '</a>');
    return '<span class="NACKED">NACKED:</span> ' + links.join(', ') + (nacked.length > 50 ? ' and ' + (nacked.length - 50) + ' more' : '');
  };
  const renderNode = (n) => {
    const href = '/debug/config_dump?node=' + encodeURIComponent(n.nodeId);
    const head = '<tr class="node-row"><th colspan="7"><a class="node-id" href="' + e(href) + '">' + e(n.nodeId) + '</a> <span class="status ' + n.status + '">' + n.status + '</span> <span class="muted">· ' + e(n.key) + ' · ' + e(n.userAgent || 'no user agent') + ' · ' + n.streams + ' stream(s)</span></th></tr>';
    const rows = n.types.map((t) => '<tr><td>' + e(t.type) + '</td><td class="status ' + t.status + '">' + t.status.replace('_', ' ') + '</td><td><code>' + e(t.sentVersion ?? '–') + '</code></td><td><code>' + e(t.ackedVersion ?? '–') + '</code></td><td><code>' + e(t.currentVersion ?? '–') + '</code></td><td>' + e(clock(t.lastSentAt)) + '</td><td class="nack">' + e(t.nack ? t.nack.message : '') + '</td></tr>');
    return '<tbody class="node" data-node="' + e(n.nodeId) + '" data-status="' + n.status + '" data-types="' + e(n.types.map((t) => t.type).join(' ')) + '">' + head + rows.join('') + '</tbody>';
  };
  const renderConnect = (xds) => {
    const bootstrap = '{ "xds_servers": [{ "server_uri": "' + xds + '", "channel_creds": [{ "type": "insecure" }], "server_features": ["xds_v3"] }],\\n  "node": { "id": "my-app" } }';
    return '<div id="connect"><p>No xDS client is connected. Point one at <code>' + e(xds) + '</code>:</p><ul><li>a proxyless gRPC application: <code>GRPC_XDS_BOOTSTRAP=bootstrap.json</code> with<pre>' + e(bootstrap) + '</pre>(the repository\\'s <code>examples/grpc/bootstrap.json</code>);</li><li>Envoy: <code>envoy -c examples/envoy/bootstrap-ads-sotw.yaml</code> (ADS, state of the world; its <code>xds_cluster</code> points at <code>127.0.0.1:18000</code>: change it to this address if it differs).</li></ul></div>';
  };
  const renderNodes = (nodes, total) => total === 0
    ? '<h2>Connected nodes (0)</h2>' + renderConnect(document.body.dataset.xds)
    : '<h2>Connected nodes (' + total + ')</h2>' + (total > nodes.length ? '<p id="nodes-omitted">' + (total - nodes.length) + ' more nodes are connected; the first ' + nodes.length + ' are listed (NACKED first, then STALE).</p>' : '') + '<table><thead><tr><th>type</th><th>status</th><th>sent</th><th>acked</th><th>current</th><th>last push</th><th>NACK message</th></tr></thead>' + nodes.map(renderNode).join('') + '</table>';
  const filterBox = document.getElementById('filter');
  const applyFilter = () => {
    const text = filterBox.value.trim().toLowerCase();
    const blocks = document.querySelectorAll('tbody.node');
    let shown = 0;
    for (const block of blocks) {
      const match = text === '' || (block.dataset.node + ' ' + block.dataset.types).toLowerCase().includes(text);
      block.hidden = !match;
      if (match) shown++;
    }
    document.getElementById('shown').textContent = text === '' ? '' : shown + ' of ' + blocks.length + ' nodes match';
  };
  if (location.hash.length > 1) filterBox.value = decodeURIComponent(location.hash.slice(1));
  filterBox.addEventListener('input', () => {
    history.replaceState(null, '', filterBox.value === '' ? location.pathname : '#' + encodeURIComponent(filterBox.value));
    applyFilter();
  });
  const refresh = async () => {
    try {
      const response = await fetch('/debug/syncz', { cache: 'no-store' });
      if (!response.ok) return;
      const view = await response.json();
      document.getElementById('counts').innerHTML = renderCounts(view.counts);
      document.getElementById('nacked').innerHTML = renderNacked(view.nodes);
      // A page's own sections: only those it has (xds-relay's page has neither).
      const config = document.getElementById('config');
      if (config !== null && view.config !== undefined) config.innerHTML = renderConfig(view.config);
      const registries = document.getElementById('registries');
      if (registries !== null) registries.innerHTML = renderRegistries(view.registries);
      document.getElementById('nodes').innerHTML = renderNodes(view.nodes, view.counts.nodes);
      document.getElementById('updated').textContent = clock(view.generatedAt);
      document.getElementById('uptime').textContent = uptime(view.server.uptimeSeconds);
      document.getElementById('version').textContent = view.server.version;
      const connections = document.getElementById('connections');
      if (connections !== null && view.server.connections !== undefined) connections.innerHTML = renderConnections(view.server.connections);
      const partial = document.getElementById('partial-requests');
      if (partial !== null && view.server.partialRequests !== undefined) partial.innerHTML = renderPartialRequests(view.server.partialRequests);
      applyFilter();
      if (document.body.dataset.rendered !== 'client') document.body.dataset.renderMs = String(Math.round(performance.now()));
      document.body.dataset.rendered = 'client';
    } catch {
      document.body.dataset.rendered = 'offline';
    }
  };
  applyFilter();
  void refresh();
  setInterval(refresh, 2000);
})();
`;
