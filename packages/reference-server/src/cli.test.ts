import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultLimits } from '@xds/server';
import { isLoopbackHost, parseAddress } from './address.js';
import { defaults, parseCommandLine, usage } from './cli.js';
import { binPath } from './demo/server-process.js';
import { limitMeanings, maxLimitsFileBytes, maxLimitValue, readLimitsFile } from './limit-flags.js';
import { runSync } from './test-exit.js';
import { tempDir } from './test-support.js';

describe('command line', () => {
  it('defaults to both listeners on loopback and the embedded example', () => {
    assert.deepEqual(parseCommandLine([]), {
      kind: 'run',
      options: { config: undefined, ...defaults },
    });
  });

  it('takes every flag, and environment defaults that flags override', () => {
    const parsed = parseCommandLine(
      [
        '--config',
        'mesh.yaml',
        '--xds',
        '[::1]:18500',
        '--log-level',
        'debug',
        '--debounce-ms',
        '250',
        '--max-in-flight-mib',
        '16',
        '--keepalive-time-ms',
        '7200000',
        '--keepalive-timeout-ms',
        '20000',
        '--tls-cert',
        'tls.crt',
        '--tls-key',
        'tls.key',
        '--tls-client-ca',
        'ca.crt',
        '--trust-domain',
        'cluster.local',
        '--admin-token-file',
        'token',
        '--admin-tls-cert',
        'admin.crt',
        '--admin-tls-key',
        'admin.key',
        '--registry',
        'etcd=http://127.0.0.1:2379/xds',
        '--registry-limit',
        'maxRegistryServices=20',
        '--registry-limit',
        'parseHeapMiB=256',
        '--model-limit',
        'maxGeneratedEndpoints=200000',
        '--limit',
        'maxStreamsPerNode=1000',
        '--limit',
        `drainTimeoutMs=${maxLimitValue}`,
        '--limits-file',
        'limits.json',
      ],
      { XDS_ADMIN_ADDRESS: '127.0.0.1:9901', XDS_LOG_LEVEL: 'warn', XDS_CONFIG: 'other.yaml' },
    );
    assert.deepEqual(parsed, {
      kind: 'run',
      options: {
        config: 'mesh.yaml',
        xds: '[::1]:18500',
        admin: '127.0.0.1:9901',
        logLevel: 'debug',
        debounceMs: 250,
        maxInFlightMiB: 16,
        keepaliveTimeMs: 7_200_000,
        keepaliveTimeoutMs: 20_000,
        tlsCert: 'tls.crt',
        tlsKey: 'tls.key',
        tlsClientCa: 'ca.crt',
        trustDomain: 'cluster.local',
        adminTokenFile: 'token',
        adminTlsCert: 'admin.crt',
        adminTlsKey: 'admin.key',
        csds: 'loopback',
        registries: [{ kind: 'etcd', location: 'http://127.0.0.1:2379/xds' }],
        registryLimits: { maxRegistryServices: 20 },
        registryParse: { parseHeapMiB: 256 },
        modelLimits: { maxGeneratedEndpoints: 200_000 },
        limits: { maxStreamsPerNode: 1000, drainTimeoutMs: maxLimitValue },
        limitsFile: 'limits.json',
      },
    });
  });

  it('L2: --limit takes every limit of @xds/server by its name, and --help lists each with its default', () => {
    const names = Object.keys(defaultLimits);
    assert.deepEqual(
      Object.keys(limitMeanings).sort(),
      [...names].sort(),
      'a meaning for every limit, no more',
    );
    const args = names.flatMap((name, i) => ['--limit', `${name}=${i + 1}`]);
    const parsed = parseCommandLine(args);
    assert.equal(parsed.kind, 'run');
    assert.deepEqual(
      parsed.kind === 'run' ? parsed.options.limits : undefined,
      Object.fromEntries(names.map((name, i) => [name, i + 1])),
    );
    for (const [name, value] of Object.entries(defaultLimits)) {
      const row = new RegExp(`^ +${name} +${value}  \\S`, 'm');
      assert.match(usage, row, `--help shows ${name} with its default ${value}`);
    }
  });

  it('L2: refuses an unknown limit, a bad or out-of-range value and a repeated limit with one line naming it', () => {
    const refused = (...limits: string[]) => {
      const parsed = parseCommandLine(limits.flatMap((limit) => ['--limit', limit]));
      assert.equal(parsed.kind, 'refused', `${limits.join(' ')} should be refused`);
      const message = parsed.kind === 'refused' ? parsed.message : '';
      assert.equal(message.includes('\n'), false, 'one line');
      return message;
    };
    assert.match(
      refused('maxStreamPerNode=5'),
      /"maxStreamPerNode" is not a limit; the limits are .*maxStreamsPerNode/,
    );
    const range = `must be a whole number from 1 to ${maxLimitValue}`;
    for (const value of ['0', '-1', '1.5', '1e3', 'ten', '', ' 7', String(maxLimitValue + 1), '99999999999'])
      assert.match(
        refused(`maxStreamsPerNode=${value}`),
        new RegExp(`^--limit maxStreamsPerNode=.*: maxStreamsPerNode ${range} \\(default 100\\)$`),
        JSON.stringify(value),
      );
    assert.match(refused('maxStreamsPerNode'), /expected NAME=VALUE/);
    assert.match(refused('=5'), /expected NAME=VALUE/);
    assert.match(refused('toString=5'), /"toString" is not a limit/);
    assert.match(refused('maxNameBytes=10', 'maxNameBytes=20'), /--limit maxNameBytes is given twice/);
  });

  it('reports unknown flags, missing values, positionals, bad addresses and levels as usage errors', () => {
    const error = (args: string[]) => {
      const parsed = parseCommandLine(args);
      assert.equal(parsed.kind, 'usage-error', `${args.join(' ')} should be a usage error`);
      return parsed.kind === 'usage-error' ? parsed.message : '';
    };
    assert.match(error(['--bogus']), /Unknown option '--bogus'/);
    assert.match(error(['--config']), /--config/);
    assert.match(error(['mesh.yaml']), /positional/i);
    assert.match(error(['--xds', '18000']), /--xds: "18000" is not host:port/);
    assert.match(error(['--admin', '127.0.0.1:99999']), /--admin: port 99999 .* out of range/);
    assert.match(error(['--log-level', 'loud']), /--log-level: "loud" is not one of fatal, error/);
    assert.match(error(['--debounce-ms', 'soon']), /--debounce-ms/);
    assert.match(
      error(['--max-in-flight-mib', '0']),
      /--max-in-flight-mib: "0" is not a whole number of MiB/,
    );
    assert.match(
      error(['--keepalive-time-ms', '0']),
      /--keepalive-time-ms: "0" is not a whole number of milliseconds from 1 to 2147483647/,
    );
    assert.match(error(['--keepalive-timeout-ms', '2147483648']), /--keepalive-timeout-ms: "2147483648"/);
    assert.match(error(['--keepalive-timeout-ms', '1.5']), /--keepalive-timeout-ms: "1.5"/);
    assert.equal(parseCommandLine(['-h']).kind, 'help');
  });

  it('reports security flags that need each other', () => {
    const error = (args: string[]) => {
      const parsed = parseCommandLine(args);
      assert.equal(parsed.kind, 'usage-error', `${args.join(' ')} should be a usage error`);
      return parsed.kind === 'usage-error' ? parsed.message : '';
    };
    assert.match(error(['--tls-cert', 'a.crt']), /--tls-cert and --tls-key go together/);
    assert.match(error(['--admin-tls-key', 'a.key']), /--admin-tls-cert and --admin-tls-key go together/);
    assert.match(error(['--tls-client-ca', 'ca.crt']), /--tls-client-ca needs --tls-cert/);
    assert.match(
      error(['--tls-cert', 'a', '--tls-key', 'b', '--trust-domain', 'td']),
      /--trust-domain needs --tls-client-ca/,
    );
    assert.match(
      error(['--tls-cert', 'a', '--tls-key', 'b', '--tls-client-ca', 'c', '--trust-domain', 'Bad/Domain']),
      /--trust-domain: "Bad\/Domain" is not a SPIFFE trust domain/,
    );
    assert.match(error(['--admin-token-file', '']), /--admin-token-file: the file name is empty/);
  });

  it('refuses an admin address beyond loopback without both a token and HTTPS', () => {
    const tls = ['--admin-tls-cert', 'a.crt', '--admin-tls-key', 'a.key'];
    for (const admin of ['0.0.0.0:18001', '[::]:18001', '10.1.2.3:18001', 'admin.example:18001']) {
      for (const extra of [[], ['--admin-token-file', 'token'], tls]) {
        const parsed = parseCommandLine(['--admin', admin, ...extra]);
        assert.equal(parsed.kind, 'refused', `${admin} ${extra.join(' ')}`);
      }
      assert.equal(parseCommandLine(['--admin', admin, '--admin-token-file', 'token', ...tls]).kind, 'run');
    }
    for (const admin of ['127.0.0.1:18001', '127.8.9.10:1', '[::1]:18001', 'localhost:18001'])
      assert.equal(parseCommandLine(['--admin', admin]).kind, 'run', admin);
  });

  it('parses host:port with IPv4, names and bracketed IPv6', () => {
    assert.deepEqual(parseAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
    assert.deepEqual(parseAddress('localhost:18000'), { host: 'localhost', port: 18000 });
    assert.deepEqual(parseAddress('[::1]:18000'), { host: '::1', port: 18000 });
    assert.equal(typeof parseAddress('::1:18000'), 'string');
  });

  it('tells loopback hosts from the rest (for the admin refusal and the plaintext xDS warning)', () => {
    for (const host of ['127.0.0.1', '127.255.0.9', '::1', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1'])
      assert.equal(isLoopbackHost(host), true, host);
    for (const host of [
      '0.0.0.0',
      '::',
      '10.0.0.1',
      '128.0.0.1',
      'example.com',
      '127.0.0.1.example.com',
      '::ffff:10.0.0.1',
    ])
      assert.equal(isLoopbackHost(host), false, host);
  });

  it('the real bin exits with 2 and the usage on a bad flag, 2 and one line on an exposed admin or a bad limit, 0 on --help', () => {
    const bad = runSync([binPath, '--xds', 'nowhere']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^xds-server: --xds: "nowhere" is not host:port/);
    assert.match(bad.stderr, /Usage: xds-server/);
    assert.equal(bad.stdout, '');
    const refused = runSync([binPath, '--admin', '0.0.0.0:18001']);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /^xds-server: --admin 0\.0\.0\.0:18001 is not a loopback address: .*\n$/);
    assert.equal(refused.stderr.split('\n').length, 2, 'one line');
    const help = runSync([binPath, '--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /Usage: xds-server/);
    assert.match(help.stdout, /--limit NAME=VALUE/);
    const limit = runSync([binPath, '--limit', 'maxStreamsPerNode=0']);
    assert.equal(limit.status, 2);
    assert.equal(
      limit.stderr,
      `xds-server: --limit maxStreamsPerNode=0: maxStreamsPerNode must be a whole number from 1 to ${maxLimitValue} (default 100)\n`,
    );
  });
});

describe('--limits-file', () => {
  let temp: ReturnType<typeof tempDir>;
  before(() => {
    temp = tempDir();
  });
  after(() => temp.remove());
  const file = (name: string, text: string) => {
    const path = join(temp.dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('L2: reads a JSON object of limits by their @xds/server names', () => {
    const path = file('ok.json', '{ "maxStreamsPerNode": 1000, "firstRequestTimeoutMs": 5000 }\n');
    assert.deepEqual(readLimitsFile(path), { maxStreamsPerNode: 1000, firstRequestTimeoutMs: 5000 });
    assert.deepEqual(readLimitsFile(file('empty.json', '{}')), {});
  });

  it('L2: refuses, in one line naming the file and the limit, what is not a JSON object of whole numbers in range', () => {
    const refused = (name: string, text: string) => {
      const path = file(name, text);
      const result = readLimitsFile(path);
      assert.equal(typeof result, 'string', `${text} should be refused`);
      assert.ok(String(result).startsWith(`--limits-file ${path}: `), String(result));
      assert.equal(String(result).includes('\n'), false, 'one line');
      return String(result);
    };
    assert.match(
      refused('unknown.json', '{"maxStreamPerNode": 5}'),
      /"maxStreamPerNode" is not a limit; the limits are/,
    );
    assert.match(refused('proto.json', '{"__proto__": 5}'), /"__proto__" is not a limit/);
    for (const value of ['0', '-1', '1.5', '"100"', 'true', 'null', String(maxLimitValue + 1), '[1]'])
      assert.match(
        refused('value.json', `{"maxNameBytes": ${value}}`),
        new RegExp(`maxNameBytes must be a whole number from 1 to ${maxLimitValue} \\(default 16384\\), got`),
        value,
      );
    assert.match(refused('array.json', '[]'), /expected a JSON object of limits/);
    assert.match(refused('number.json', '5'), /expected a JSON object of limits/);
    assert.match(refused('yaml.json', 'maxStreamsPerNode: 5'), /not JSON/);
    assert.match(
      refused('big.json', `{"maxNameBytes": 1${' '.repeat(maxLimitsFileBytes)}}`),
      new RegExp(`more than ${maxLimitsFileBytes}`),
    );
    const missing = join(temp.dir, 'missing.json');
    assert.equal(readLimitsFile(missing), `--limits-file ${missing}: cannot read the file (ENOENT)`);
  });

  it('the real bin exits with 2 and one line on a bad limits file, before it listens', () => {
    const path = file('bad.json', '{"maxStreamsPerNode": 0}');
    const run = runSync([binPath, '--limits-file', path, '--xds', '127.0.0.1:0']);
    assert.equal(run.status, 2);
    assert.equal(
      run.stderr,
      `xds-server: --limits-file ${path}: maxStreamsPerNode must be a whole number from 1 to ${maxLimitValue} (default 100), got 0\n`,
    );
    assert.equal(run.stdout, '', 'nothing started, nothing logged');
  });
});
