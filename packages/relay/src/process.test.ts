import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { statusPageContentSecurityPolicy } from '@xds/reference-server';
import { parseRelayCommandLine, relayDefaults } from './cli.js';
import {
  closeAfterAll,
  downstream,
  localRelayArgs,
  nextEvent,
  readyzUntil,
  startOrigin,
  startQuietRelayProcess,
  startRelayCommand,
  until,
} from './test-support.js';

const closers = closeAfterAll();

describe('xds-relay command line', () => {
  it('takes every flag, with loopback defaults', () => {
    assert.deepEqual(parseRelayCommandLine(['--upstream', '127.0.0.1:18000, 127.0.0.1:18100']), {
      kind: 'run',
      options: {
        upstreams: ['127.0.0.1:18000', '127.0.0.1:18100'],
        xds: relayDefaults.xds,
        admin: relayDefaults.admin,
        groupBy: 'node-id',
        upstreamProtocol: 'delta',
        maxGroups: 10_000,
        maxNewGroupsPerSecond: 200,
        maxGroupsPerPeer: 1_024,
        maxNewGroupsPerSecondPerPeer: 50,
        groupIdleMs: 60_000,
        maxNamesPerGroup: 50_000,
        maxNamesAllGroups: 500_000,
        maxNameBytesPerGroup: 8 * 1024 * 1024,
        maxNameBytesAllGroups: 64 * 1024 * 1024,
        maxResourceBytesAllGroups: 128 * 1024 * 1024,
        maxGroupKeyBytes: 1024,
        groupsPerConnection: 50,
        logLevel: 'info',
        tlsCert: undefined,
        tlsKey: undefined,
        tlsClientCa: undefined,
        adminTokenFile: undefined,
        adminTlsCert: undefined,
        adminTlsKey: undefined,
        trustDomain: undefined,
        upstreamCa: undefined,
        upstreamCert: undefined,
        upstreamKey: undefined,
        upstreamLimits: {},
        readyGraceMs: 30_000,
        upstreamAnswerWaitMs: 10_000,
        limits: {},
        limitsFile: undefined,
      },
    });
    const parsed = parseRelayCommandLine([
      '--upstream=a:1',
      '--group-by',
      'metadata:ROLE',
      '--upstream-protocol',
      'sotw',
      '--max-groups',
      '5',
    ]);
    assert.equal(parsed.kind === 'run' && parsed.options.groupBy, 'metadata:ROLE');
    const wait = parseRelayCommandLine(['--upstream=a:1', '--upstream-answer-wait-ms', '2500']);
    assert.equal(wait.kind === 'run' && wait.options.upstreamAnswerWaitMs, 2500);
  });

  it('L2: --upstream-answer-wait-ms is a whole number from 1 to 2147483647', () => {
    for (const bad of ['0', '-1', '1.5', 'soon', '2147483648', '99999999999']) {
      const parsed = parseRelayCommandLine(['--upstream', 'a:1', `--upstream-answer-wait-ms=${bad}`]);
      assert.ok(
        parsed.kind === 'usage-error' &&
          parsed.message.includes(
            `--upstream-answer-wait-ms: "${bad}" is not a whole number from 1 to 2147483647`,
          ),
        bad,
      );
    }
    const top = parseRelayCommandLine(['--upstream', 'a:1', '--upstream-answer-wait-ms', '2147483647']);
    assert.equal(top.kind === 'run' && top.options.upstreamAnswerWaitMs, 2_147_483_647);
  });

  it('L2: the xds-relay command stops on a bad --upstream-answer-wait-ms with exit 2 naming the flag', async () => {
    await assert.rejects(
      startRelayCommand(['--upstream', '127.0.0.1:1', '--upstream-answer-wait-ms', 'soon']),
      /exited with 2 before starting:[\s\S]*--upstream-answer-wait-ms: "soon" is not a whole number/,
    );
  });

  it('names every bad flag in one usage error', () => {
    const parsed = parseRelayCommandLine([
      '--upstream',
      'nowhere',
      '--group-by',
      'rack',
      '--upstream-protocol',
      'rest',
      '--max-groups',
      '0',
    ]);
    assert.equal(parsed.kind, 'usage-error');
    const message = parsed.kind === 'usage-error' ? parsed.message : '';
    for (const flag of ['--upstream', '--group-by', '--upstream-protocol', '--max-groups'])
      assert.match(message, new RegExp(flag), flag);
    assert.equal(parseRelayCommandLine([]).kind, 'usage-error', '--upstream is required');
    assert.equal(parseRelayCommandLine(['--upstream', 'a:1', '--bogus']).kind, 'usage-error');
    const tls = parseRelayCommandLine([
      '--upstream',
      'a:1',
      '--tls-key',
      'k',
      '--tls-client-ca',
      'ca',
      '--admin-tls-cert',
      'c',
      '--upstream-cert',
      'c',
    ]);
    assert.equal(tls.kind, 'usage-error');
    for (const problem of [
      '--tls-cert and --tls-key go together',
      '--tls-client-ca needs --tls-cert',
      '--admin-tls-cert and --admin-tls-key go together',
      '--upstream-cert and --upstream-key go together',
      '--upstream-cert needs --upstream-ca',
    ])
      assert.ok(tls.kind === 'usage-error' && tls.message.includes(problem), problem);
  });

  it('L6: --trust-domain reaches the options, as xds-server takes it: only with a client CA, a valid domain', () => {
    const mtls = ['--upstream', 'a:1', '--tls-cert', 'c', '--tls-key', 'k', '--tls-client-ca', 'ca'];
    const parsed = parseRelayCommandLine([...mtls, '--trust-domain', 'cluster.local']);
    assert.equal(parsed.kind === 'run' && parsed.options.trustDomain, 'cluster.local');
    const noCa = parseRelayCommandLine(['--upstream', 'a:1', '--trust-domain', 'cluster.local']);
    assert.ok(noCa.kind === 'usage-error' && noCa.message.includes('--trust-domain needs --tls-client-ca'));
    const joined = parseRelayCommandLine([...mtls, '--trust-domain', 'td', '--group-by', 'cluster']);
    assert.ok(
      joined.kind === 'usage-error' && joined.message.includes('--group-by cluster with --trust-domain'),
    );
    const byNamespace = [...mtls, '--trust-domain', 'td', '--group-by', 'metadata:NAMESPACE'];
    assert.equal(parseRelayCommandLine(byNamespace).kind, 'run');
    const bad = parseRelayCommandLine([...mtls, '--trust-domain', 'Bad/Domain']);
    assert.ok(
      bad.kind === 'usage-error' && bad.message.includes('"Bad/Domain" is not a SPIFFE trust domain'),
    );
  });

  it('refuses an admin address beyond loopback without both a token and HTTPS, as xds-server does', () => {
    const open = parseRelayCommandLine(['--upstream', 'a:1', '--admin', '0.0.0.0:18011']);
    assert.equal(open.kind, 'refused');
    assert.match(open.kind === 'refused' ? open.message : '', /not a loopback address.*--admin-token-file/);
    const tokenOnly = ['--upstream', 'a:1', '--admin', '0.0.0.0:18011', '--admin-token-file', 't'];
    assert.equal(parseRelayCommandLine(tokenOnly).kind, 'refused');
    const both = parseRelayCommandLine([...tokenOnly, '--admin-tls-cert', 'c', '--admin-tls-key', 'k']);
    assert.equal(both.kind, 'run');
    assert.equal(both.kind === 'run' && both.options.adminTokenFile, 't');
  });
});

describe('xds-relay process', () => {
  it('X3: /readyz and /metrics say when the upstream is gone; /debug/syncz shows each client and group', async () => {
    const origin = await startOrigin();
    const running = await startQuietRelayProcess(closers, {
      upstreams: [origin.address],
      xds: '127.0.0.1:0',
      admin: '127.0.0.1:0',
      groupBy: 'cluster',
      upstreamProtocol: 'delta',
      maxGroups: 10,
    });
    const get = async (path: string) => {
      const response = await fetch(`http://${running.adminAddress}${path}`);
      // The admin server is xds-server's, shared: its security headers on every page.
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
      return { status: response.status, body: await response.text() };
    };
    const idle = await get('/readyz');
    assert.equal(idle.status, 200, idle.body);
    assert.match(
      idle.body,
      /^ready\nupstream: idle\nno group yet; upstream reachable \(127\.0\.0\.1:\d+: answers gRPC/,
    );
    const client = downstream(running.xdsAddress, 'n1');
    closers.push(() => client.close());
    client.subscribe(TypeUrl.Cluster, ['*']);
    await client.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.size === 2);
    await until('a connected upstream', () => running.relay.upstreamState() === 'connected');
    assert.deepEqual(await get('/readyz'), {
      status: 200,
      body: 'ready\nupstream: connected\n1 of 1 groups have a live upstream stream\n',
    });
    const syncz = JSON.parse((await get('/debug/syncz')).body) as {
      upstream: string;
      groupCounts: { groups: number; idle: number; maxGroups: number };
      groups: { group: string; upstreamNodeId: string }[];
      nodes: { nodeId: string; key: string; status: string; types: { currentVersion?: string }[] }[];
    };
    assert.equal(syncz.upstream, 'connected');
    assert.deepEqual(
      [syncz.groupCounts.groups, syncz.groupCounts.idle, syncz.groupCounts.maxGroups],
      [1, 0, 10],
      'the groups held against --max-groups (rule L2)',
    );
    assert.deepEqual(
      syncz.groups.map((g) => [g.group, g.upstreamNodeId]),
      [['web', 'relay~web']],
    );
    assert.equal(syncz.nodes[0]?.nodeId, 'n1');
    assert.equal(
      syncz.nodes[0]?.types[0]?.currentVersion,
      origin.cache.getSnapshot('all')?.version(TypeUrl.Cluster),
    );
    assert.equal(syncz.nodes[0]?.key, 'web', "a node's key is its group");
    assert.equal(syncz.nodes[0]?.status, 'SYNCED');
    // Each node links to its config_dump, xds-server's view over the relay's cache.
    const dump = await get('/debug/config_dump?node=n1');
    assert.equal(dump.status, 200);
    assert.match(dump.body, /"name": "c1"/);
    assert.equal((await get('/debug/config_dump')).status, 400);
    // The status page is xds-server's, with the relay's upstream section and the same CSP.
    const page = await fetch(`http://${running.adminAddress}/`);
    assert.equal(page.headers.get('content-security-policy'), statusPageContentSecurityPolicy);
    const html = await page.text();
    assert.match(html, /<title>xds-relay<\/title>/);
    assert.match(html, /data-node="n1"/);
    assert.match(html, /Upstream: <span id="upstream-state" class="status SYNCED">connected<\/span>/);
    assert.match(html, /<td>web<\/td><td><code>relay~web<\/code><\/td>/);
    assert.match(html, /<p id="group-counts">1 of at most 10 groups \(0 idle\) on 1 upstream connections;/);

    const gone = nextEvent(running.relay, 'upstreamDisconnected');
    await origin.server.close();
    await gone;
    // Not ready for new clients without an origin; the client it has keeps what it holds (rule X3).
    const readyz = await readyzUntil(running.adminAddress, 503);
    assert.match(
      readyz.body,
      /^not ready\nupstream: disconnected\nno upstream reachable: 127\.0\.0\.1:\d+: /,
    );
    assert.equal(client.resources(TypeUrl.Cluster).size, 2);
    assert.match((await get('/')).body, /Upstream: <span[^>]*>disconnected</);
    const metrics = (await get('/metrics')).body;
    assert.match(metrics, /^xds_relay_upstream_connected 0$/m);
    assert.match(metrics, /^xds_relay_groups 1$/m);
    assert.match(metrics, /^pilot_xds 1$/m);
  });

  it('drains on SIGTERM and exits 0', async () => {
    const origin = await startOrigin();
    closers.push(() => origin.server.close());
    const command = await startRelayCommand(localRelayArgs(origin.address));
    closers.push(async () => {
      if (command.child.exitCode === null) command.child.kill('SIGKILL');
    });
    command.child.kill('SIGTERM');
    assert.equal(await command.exited, 0, command.output());
    assert.match(command.output(), /"msg":"draining"/);
    assert.match(command.output(), /"msg":"stopped"/);
  });
});
