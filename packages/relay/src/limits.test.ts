// `xds-relay --limit NAME=VALUE` and `--limits-file FILE`: the same flags as `xds-server`'s, from the same code
// (reference-server's limit-flags.ts), bounding what the relay's downstream clients control (rule L2). Parsed here,
// then end to end through the real `xds-relay` command in front of a real origin.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { TypeUrl } from '@xds/api';
import { limitMeanings } from '@xds/reference-server';
import { defaultLimits } from '@xds/server';
import { XdsTestClient } from '@xds/testing';
import { parseRelayCommandLine, relayUsage } from './cli.js';
import {
  localRelayArgs,
  type Origin,
  type RelayCommand,
  relayWaitMs,
  startedLine,
  startOrigin,
  startRelayCommand,
} from './test-support.js';

describe('xds-relay --limit and --limits-file (parsing)', () => {
  it('L2: --limit takes every limit of @xds/server by name, and --help lists each with its default', () => {
    const parsed = parseRelayCommandLine([
      '--upstream',
      'a:1',
      '--limit',
      'maxStreamsPerNode=1000',
      '--limit',
      'maxNamesPerRequest=7',
      '--limits-file',
      'limits.json',
    ]);
    assert.equal(parsed.kind, 'run');
    assert.deepEqual(parsed.kind === 'run' && parsed.options.limits, {
      maxStreamsPerNode: 1000,
      maxNamesPerRequest: 7,
    });
    assert.equal(parsed.kind === 'run' && parsed.options.limitsFile, 'limits.json');
    for (const name of Object.keys(limitMeanings)) assert.match(relayUsage, new RegExp(`\\b${name}\\b`));
  });

  it('L2: a bad --limit is refused in one line naming it; an empty --limits-file is a usage error', () => {
    assert.deepEqual(parseRelayCommandLine(['--upstream', 'a:1', '--limit', 'maxStreamsPerNode=0']), {
      kind: 'refused',
      message: `--limit maxStreamsPerNode=0: maxStreamsPerNode must be a whole number from 1 to 2147483647 (default ${defaultLimits.maxStreamsPerNode})`,
    });
    const unknown = parseRelayCommandLine(['--upstream', 'a:1', '--limit', 'maxEverything=3']);
    assert.equal(unknown.kind, 'refused');
    assert.match(unknown.kind === 'refused' ? unknown.message : '', /"maxEverything" is not a limit/);
    assert.deepEqual(parseRelayCommandLine(['--upstream', 'a:1', '--limits-file', '']), {
      kind: 'usage-error',
      message: '--limits-file: the file name is empty',
    });
  });
});

describe('xds-relay --limit and --limits-file (the command)', () => {
  let dir: string;
  let origin: Origin;
  let relay: RelayCommand;
  const clients: XdsTestClient[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xds-relay-limits-'));
    const file = join(dir, 'limits.json');
    writeFileSync(file, JSON.stringify({ maxNamesPerRequest: 5, maxGlobsPerRequest: 2 }));
    origin = await startOrigin();
    relay = await startRelayCommand(
      localRelayArgs(origin.address, '--limits-file', file, '--limit', 'maxNamesPerRequest=3'),
    );
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    if (relay?.child.exitCode === null) relay.child.kill('SIGKILL');
    await origin?.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const started = () => startedLine(relay);

  it('L2: the file sets limits and --limit wins over it, in the start-up log and on the wire', async () => {
    assert.deepEqual(started()['limits'], { ...defaultLimits, maxNamesPerRequest: 3, maxGlobsPerRequest: 2 });
    const client = new XdsTestClient({
      address: String(started()['xds']),
      node: 'n1',
      timeoutMs: relayWaitMs,
    });
    clients.push(client);
    client.subscribe(TypeUrl.Cluster, ['a', 'b', 'c', 'd']);
    const end = await client.ended(TypeUrl.Cluster);
    assert.equal(end.code, status.RESOURCE_EXHAUSTED, end.details);
    assert.match(end.details, /has 4 names, more than limits\.maxNamesPerRequest \(3\)/);
    // within the limits, the relay serves as before
    const within = new XdsTestClient({
      address: String(started()['xds']),
      node: 'n2',
      timeoutMs: relayWaitMs,
    });
    clients.push(within);
    within.subscribe(TypeUrl.Cluster, ['c1', 'c2']);
    await within.waitFor(TypeUrl.Cluster, (_r, state) => state.resources.size === 2);
  });

  it('L2: a --limits-file that is not a JSON object of limits stops the start with one line naming it', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"maxNamesPerRequest": "many"}');
    await assert.rejects(
      startRelayCommand(localRelayArgs(origin.address, '--limits-file', bad)),
      new RegExp(
        `exited with 2 before starting:[\\s\\S]*--limits-file ${bad}: maxNamesPerRequest must be a whole number`,
      ),
    );
  });
});
