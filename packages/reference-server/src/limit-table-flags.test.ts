// `--model-limit NAME=VALUE` and the parse options of `--registry-limit` (rule L2: every bound has a documented
// default and an option). The model limits bound the file and, with `--registry`, its merge with the registries
// (review R5), which registries at their own defaults can pass: without a flag only code could raise them. The
// registry adapters' parse worker bounds (`parseHeapMiB`, `parseTimeoutMs`, `inlineParseBytes`) had no flag at all.
// Each is shown reaching what it bounds: the parse options through a real Consul's answers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defaultModelLimits } from '@xds/generator';
import { defaultParseOptions } from '@xds/registry';
import { type RunningServer, startConsul } from '../../../scripts/registries/servers.mjs';
import { parseCommandLine, usage } from './cli.js';
import { createLogger } from './logger.js';
import { startReferenceServer } from './reference-server.js';
import { registryParseLimits } from './registry-limit-flags.js';
import { get, memoryLog, poll } from './test-support.js';

function refusal(args: readonly string[]): string {
  const parsed = parseCommandLine(args);
  assert.equal(parsed.kind, 'refused', args.join(' '));
  return parsed.kind === 'refused' ? parsed.message : '';
}

describe('xds-server --model-limit', () => {
  it('L2: sets every model limit by its name; --help lists each with its default', () => {
    const names = Object.keys(defaultModelLimits) as (keyof typeof defaultModelLimits)[];
    const parsed = parseCommandLine(names.flatMap((name, i) => ['--model-limit', `${name}=${i + 2}`]));
    assert.equal(parsed.kind, 'run');
    assert.deepEqual(
      parsed.kind === 'run' ? parsed.options.modelLimits : undefined,
      Object.fromEntries(names.map((name, i) => [name, i + 2])),
    );
    for (const name of names) {
      const row = new RegExp(`^ {4}${name} +${defaultModelLimits[name]} `, 'm');
      assert.match(usage, row, `--help shows ${name} with its default`);
    }
  });

  it('L2: a bad --model-limit is refused in one line naming the flag and the limit', () => {
    assert.equal(
      refusal(['--model-limit', 'maxDepth=1001']),
      '--model-limit maxDepth=1001: maxDepth must be a whole number from 1 to 1000 (default 64)',
    );
    assert.match(
      refusal(['--model-limit', 'maxEndpoints=5']),
      /^--model-limit maxEndpoints=5: "maxEndpoints" is not a model limit; they are maxBytes, maxDepth, /,
    );
    assert.match(
      refusal(['--model-limit', 'maxNodes=0']),
      /maxNodes must be a whole number from 1 to 2147483647/,
    );
    assert.match(refusal(['--model-limit', 'maxNodes']), /^--model-limit maxNodes: expected NAME=VALUE/);
    assert.equal(
      refusal(['--model-limit', 'maxNodes=5', '--model-limit', 'maxNodes=6']),
      '--model-limit maxNodes is given twice',
    );
  });
});

describe('xds-server --registry-limit parse options', () => {
  let consul: RunningServer;

  before(async () => {
    consul = await startConsul();
  });

  after(async () => {
    await consul.stop();
  });

  it("L2: parseHeapMiB, parseTimeoutMs and inlineParseBytes are set apart from the registry limits, with the adapters' defaults", () => {
    const parsed = parseCommandLine([
      '--registry-limit',
      'parseHeapMiB=256',
      '--registry-limit',
      'parseTimeoutMs=5000',
      '--registry-limit',
      'inlineParseBytes=0',
      '--registry-limit',
      'maxRegistryServices=20',
    ]);
    assert.equal(parsed.kind, 'run');
    if (parsed.kind !== 'run') return;
    assert.deepEqual(parsed.options.registryParse, {
      parseHeapMiB: 256,
      parseTimeoutMs: 5000,
      inlineParseBytes: 0,
    });
    assert.deepEqual(parsed.options.registryLimits, { maxRegistryServices: 20 });
    for (const [name, limit] of Object.entries(registryParseLimits)) {
      assert.equal(limit.defaultValue, defaultParseOptions[name as keyof typeof registryParseLimits], name);
      assert.match(usage, new RegExp(`^ {4}${name} +${limit.defaultValue} `, 'm'), `--help shows ${name}`);
    }
  });

  it('L2: a parse option out of its range is refused in one line naming the flag', () => {
    assert.equal(
      refusal(['--registry-limit', 'parseHeapMiB=8']),
      '--registry-limit parseHeapMiB=8: parseHeapMiB must be a whole number from 16 to 65536 (default 1024)',
    );
    assert.match(
      refusal(['--registry-limit', 'inlineParseBytes=67108865']),
      /^--registry-limit inlineParseBytes=67108865: inlineParseBytes must be a whole number from 0 to 67108864 \(default 65536\)$/,
    );
    assert.match(
      refusal(['--registry-limit', 'parseTimeoutMs=0']),
      /parseTimeoutMs must be a whole number from 1/,
    );
  });

  it("L2: the flags reach the registry's parser: every Consul answer to the worker, each given 1 ms, fails naming parseTimeoutMs", async () => {
    const parsed = parseCommandLine([
      '--registry',
      `consul=${consul.url}`,
      '--registry-limit',
      'inlineParseBytes=0',
      '--registry-limit',
      'parseTimeoutMs=1',
    ]);
    assert.equal(parsed.kind, 'run');
    if (parsed.kind !== 'run') return;
    const server = await startReferenceServer({
      xds: '127.0.0.1:0',
      admin: '127.0.0.1:0',
      logger: createLogger('debug', memoryLog().stream),
      closeGraceMs: 500,
      registries: parsed.options.registries,
      registryParse: parsed.options.registryParse,
    });
    try {
      const readyz = await poll('the registry pending on parseTimeoutMs', async () => {
        const answer = await get(server.adminAddress, '/readyz');
        return /parseTimeoutMs/.test(answer.body) ? answer : undefined;
      });
      assert.equal(readyz.status, 503);
      assert.match(
        readyz.body,
        /registries pending: consul .*took longer than 1 ms, the limit \(parseTimeoutMs\)/,
      );
    } finally {
      await server.close();
    }
  });
});
