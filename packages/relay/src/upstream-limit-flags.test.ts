// Rule L2 at the relay's upstream side, from its command line: `--upstream-limit NAME=VALUE` sets each group's
// upstream client limits (`ClientLimits` of @xds/client) and `--ready-grace-ms` the readiness grace (rule X3). Each
// flag reaches the option, a bad one is a usage error naming it, and the parsed options run a real relay between a
// real origin and a real downstream client: a lowered maxResourceBytes makes the relay NACK an oversize resource.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code, TypeUrl, XdsError } from '@xds/api';
import { Snapshot } from '@xds/cache';
import { type ClientLimitName, type ClientLimits, defaultClientLimits } from '@xds/client';
import { makeCluster } from '@xds/generator';
import { parseRelayCommandLine, type RelayCommandLine, relayUsage } from './cli.js';
import { Relay } from './relay.js';
import {
  closeAfterAll,
  downstream,
  getAdmin,
  localRelayArgs,
  nextEvent,
  oddlyEncodedCluster,
  originKey,
  readyzUntil,
  startOrigin,
  startQuietRelayProcess,
} from './test-support.js';

const closers = closeAfterAll();
const names = Object.keys(defaultClientLimits) as ClientLimitName[];

function run(args: readonly string[]): RelayCommandLine {
  const parsed = parseRelayCommandLine(args);
  assert.equal(parsed.kind, 'run', parsed.kind === 'usage-error' ? parsed.message : parsed.kind);
  return (parsed as { kind: 'run'; options: RelayCommandLine }).options;
}

function usageError(args: readonly string[]): string {
  const parsed = parseRelayCommandLine(['--upstream', 'a:1', ...args]);
  assert.equal(parsed.kind, 'usage-error', `${args.join(' ')}: ${parsed.kind}`);
  return parsed.kind === 'usage-error' ? parsed.message : '';
}

describe('xds-relay --upstream-limit and --ready-grace-ms', () => {
  it('L2: each upstream limit and the readiness grace reach the options; --help lists every name', () => {
    const args = names.flatMap((name, i) => ['--upstream-limit', `${name}=${1000 + i}`]);
    const options = run(['--upstream', 'a:1', ...args, '--ready-grace-ms', '1234']);
    assert.deepEqual(options.upstreamLimits, Object.fromEntries(names.map((name, i) => [name, 1000 + i])));
    assert.equal(options.readyGraceMs, 1234);
    for (const name of [
      'maxVersionBytes',
      'maxNonceBytes',
      'maxResourceBytes',
      'maxResourceBytesPerType',
      'maxResourceBytesTotal',
      'maxQueuedRequestBytes',
      'drainTimeoutMs',
    ])
      assert.ok(names.includes(name as ClientLimitName), name);
    const alone = run(['--upstream', 'a:1', '--upstream-limit', 'maxNonceBytes=64']);
    assert.deepEqual(alone.upstreamLimits, { maxNonceBytes: 64 }, 'the others keep their defaults');
    assert.equal(alone.readyGraceMs, 30_000);
    for (const name of names) assert.match(relayUsage, new RegExp(`^ {4}${name} `, 'm'), name);
    assert.match(relayUsage, /--ready-grace-ms N/);
  });

  it('L2: a bad name or value is a usage error naming the flag, the name and the range', () => {
    assert.match(
      usageError(['--upstream-limit', 'maxBogus=5']),
      /^--upstream-limit maxBogus=5: "maxBogus" is not an upstream limit; the limits are maxMessageBytes, /,
    );
    for (const value of ['0', 'abc', '-1', '1.5', '2147483648', ''])
      assert.match(
        usageError(['--upstream-limit', `maxResourceBytes=${value}`]),
        new RegExp(
          `^--upstream-limit maxResourceBytes=${value}: maxResourceBytes must be a whole number from 1 to 2147483647 \\(default 4194304\\)$`,
        ),
        value,
      );
    assert.match(usageError(['--upstream-limit', 'maxResourceBytes']), /expected NAME=VALUE/);
    assert.match(
      usageError(['--upstream-limit', 'maxNonceBytes=9', '--upstream-limit', 'maxNonceBytes=10']),
      /--upstream-limit maxNonceBytes is given twice/,
    );
    for (const value of ['0', 'soon', '2147483648'])
      assert.match(
        usageError(['--ready-grace-ms', value]),
        new RegExp(`^--ready-grace-ms: "${value}" is not a whole number from 1 to 2147483647$`),
      );
    // Every bad flag is named in the one usage error.
    const both = usageError(['--upstream-limit', 'maxBogus=1', '--ready-grace-ms', '0', '--max-groups', '0']);
    for (const flag of ['--upstream-limit', '--ready-grace-ms', '--max-groups'])
      assert.match(both, new RegExp(flag));
  });

  it('L2: new Relay refuses a bad upstreamLimits at construction, naming the field and the value', async () => {
    const relay = (upstreamLimits: unknown) => () =>
      new Relay({ upstreams: ['127.0.0.1:1'], upstreamLimits: upstreamLimits as ClientLimits });
    for (const [limits, message] of [
      [
        { maxResourceBytes: 0 },
        /options\.upstreamLimits\.maxResourceBytes must be a positive integer, got 0$/,
      ],
      [
        { maxNonceBytes: 1.5 },
        /options\.upstreamLimits\.maxNonceBytes must be a positive integer, got 1\.5$/,
      ],
      [
        { maxVersionBytes: '64' },
        /options\.upstreamLimits\.maxVersionBytes must be a positive integer, got "64"$/,
      ],
      [
        { maxResourcesPerType: Number.POSITIVE_INFINITY },
        /maxResourcesPerType must be a positive integer, got Infinity$/,
      ],
      [
        { maxBogus: 5 },
        /options\.upstreamLimits\.maxBogus is not a client limit; the limits are maxMessageBytes, /,
      ],
    ] as const)
      assert.throws(
        relay(limits),
        (e: unknown) => e instanceof XdsError && e.code === Code.InvalidArgument && message.test(e.message),
      );
    // Good ones pass.
    const good = relay({ maxResourceBytes: 512, maxRemovedPerResponse: 10 })();
    await good.close();
  });

  it('L2: with --upstream-limit maxResourceBytes lowered, the relay NACKs an oversize upstream resource and serves the rest', async () => {
    const origin = await startOrigin();
    closers.push(() => origin.server.close());
    const options = run(
      localRelayArgs(origin.address, '--group-by', 'cluster', '--upstream-limit', 'maxResourceBytes=512'),
    );
    const running = await startQuietRelayProcess(closers, options);
    const client = downstream(running.xdsAddress, 'n1');
    closers.push(() => client.close());
    client.subscribe(TypeUrl.Cluster, ['*']);
    await client.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.size === 2);

    // c3 is 600+ bytes encoded, past 512 and far below the 4 MiB default; c4 is small.
    const big = makeCluster({ name: `c3-${'x'.repeat(600)}` });
    const nack = nextEvent(running.relay, 'upstreamNack', (e) => e.typeUrl === TypeUrl.Cluster);
    const originNack = nextEvent(origin.server, 'nack', (e) => e.nodeId === 'relay~web');
    origin.cache.setSnapshot(
      originKey,
      Snapshot.create([
        oddlyEncodedCluster().message,
        makeCluster({ name: 'c2' }),
        big,
        makeCluster({ name: 'c4' }),
      ]),
    );
    const event = await nack;
    assert.match(event.message, /is \d{3,} bytes, over limits\.maxResourceBytes=512/);
    assert.match((await originNack).message, /over limits\.maxResourceBytes=512/);
    // The other resources of the response are applied and served; the oversize one never reaches a client.
    await client.waitFor(TypeUrl.Cluster, (_r, s) => s.resources.has('c4'));
    assert.deepEqual([...client.resources(TypeUrl.Cluster).keys()].sort(), ['c1', 'c2', 'c4']);
    const metrics = (await getAdmin(running.adminAddress, '/metrics')).body;
    assert.match(metrics, /^xds_relay_upstream_nacks_total\{type="cds"\} [1-9]/m);
  });

  it('X3: --ready-grace-ms reaches readiness: a relay whose groups fail upstream is not ready after that long', async () => {
    // The origin refuses every relay stream (its node ids are longer than it allows) but its port answers gRPC.
    const origin = await startOrigin(undefined, { limits: { maxNodeIdBytes: 5 } });
    closers.push(() => origin.server.close());
    const options = run(localRelayArgs(origin.address, '--group-by', 'cluster', '--ready-grace-ms', '700'));
    const running = await startQuietRelayProcess(closers, options);
    const client = downstream(running.xdsAddress, 'refused');
    closers.push(() => client.close());
    client.subscribe(TypeUrl.Cluster, ['*']);
    const readyz = await readyzUntil(running.adminAddress, 503);
    assert.equal(readyz.status, 503, readyz.body);
    assert.match(readyz.body, /none of 1 groups has had a live upstream stream for 700 ms or more/);
  });
});
