import { parseArgs } from 'node:util';
import type { ModelLimits } from '@xds/generator/limits';
import type { RegistryLimits } from '@xds/registry/limits';
import { parseRegistrySpec, type RegistrySpec } from '@xds/registry/spec';
import type { Limits } from '@xds/server';
import { parseAddress } from './address.js';
import { type LimitFlags, limitFlagSpecs, limitsUsage, readLimitFlags } from './limit-flags.js';
import { type LogLevel, logLevels } from './logger.js';
import { modelLimitsUsage, parseModelLimitFlags } from './model-limit-flags.js';
import {
  parseRegistryLimitFlags,
  type RegistryParseFlags,
  registryLimitsUsage,
} from './registry-limit-flags.js';
import {
  adminExposureRefusal,
  securityFlagProblems,
  trustDomainFlagSpec,
  trustDomainProblems,
  trustDomainUsage,
} from './security-flags.js';

/** What the command line asks for. */
export interface CommandLine extends LimitFlags {
  /** The service model file to serve and watch; undefined serves the embedded Bookinfo example. */
  readonly config: string | undefined;
  /** Where xDS (gRPC) listens. */
  readonly xds: string;
  /** Where the admin HTTP server listens. */
  readonly admin: string;
  readonly logLevel: LogLevel;
  /** How long the config file must be quiet before a change is applied (ms). */
  readonly debounceMs: number;
  /** The server-wide bound on response bytes written and not yet flushed (MiB): the xDS server's write budget. */
  readonly maxInFlightMiB: number;
  /** HTTP/2 keepalive of the xDS port: a ping to each connection after this long (ms). */
  readonly keepaliveTimeMs: number;
  /** HTTP/2 keepalive of the xDS port: a connection whose ping is not answered within this long is closed (ms). */
  readonly keepaliveTimeoutMs: number;
  /** TLS on the xDS port: the certificate chain file (with {@link tlsKey}); undefined serves plaintext. */
  readonly tlsCert: string | undefined;
  /** TLS on the xDS port: the private key file. */
  readonly tlsKey: string | undefined;
  /** Mutual TLS on the xDS port: the CA file that signs client certificates; clients must present one. */
  readonly tlsClientCa: string | undefined;
  /** Node identity: SPIFFE IDs of this trust domain may claim the Istio node ids of their namespace. */
  readonly trustDomain: string | undefined;
  /** Who may read client status (CSDS) without node identity: loopback peers, anyone, or no one. */
  readonly csds: CsdsMode;
  /** A file holding the bearer token the admin pages ask for (all but /healthz and /readyz). */
  readonly adminTokenFile: string | undefined;
  /** HTTPS on the admin port: the certificate chain file (with {@link adminTlsKey}). */
  readonly adminTlsCert: string | undefined;
  /** HTTPS on the admin port: the private key file. */
  readonly adminTlsKey: string | undefined;
  /** Service registries (`--registry KIND=LOCATION`, repeatable), in order. */
  readonly registries: readonly RegistrySpec[];
  /** Bounds on what the registries control (`--registry-limit NAME=VALUE`); the others keep their defaults. */
  readonly registryLimits: Partial<RegistryLimits>;
  /** How the registries parse their answers off the event loop (`--registry-limit parseHeapMiB=…` and the like). */
  readonly registryParse: Partial<RegistryParseFlags>;
  /** Bounds on the model file and its merge with the registries (`--model-limit NAME=VALUE`). */
  readonly modelLimits: Partial<ModelLimits>;
}

/** The values of `--csds` (csds-access.ts makes each an `authorizeStatus`). */
export const csdsModes = ['loopback', 'open', 'off'] as const;

/** Who may read client status (CSDS): loopback peers, anyone, or no one. */
export type CsdsMode = (typeof csdsModes)[number];

/**
 * The outcome of {@link parseCommandLine}: run, print help or version, a usage error (exit 2 with the usage), or
 * a refusal of flags that parse but are unsafe together or out of range (exit 2 with one line).
 */
export type ParsedCommandLine =
  | { readonly kind: 'run'; readonly options: CommandLine }
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'usage-error'; readonly message: string }
  | { readonly kind: 'refused'; readonly message: string };

/**
 * The xDS port's keepalive. The timeout is longer than the S12 drain time (`drainTimeoutMs`, 30 s): a ping waits
 * behind every byte already queued for its connection, so a shorter timeout drops a slow reader that the drain rule
 * lets catch up (at load 45, 85 of 100 connections of a big push were lost that way with a 30 s / 10 s keepalive).
 * A ping every 2 minutes still finds a dead peer (no FIN, no RST) within 3 minutes.
 */
export const keepaliveDefaults = Object.freeze({ timeMs: 120_000, timeoutMs: 60_000 });

/** The largest value of a millisecond flag: Node's timers hold 2^31 - 1 ms (about 24.8 days). */
export const maxMilliseconds = 2_147_483_647;

/** The defaults: both listeners on loopback. */
export const defaults = Object.freeze({
  xds: '127.0.0.1:18000',
  admin: '127.0.0.1:18001',
  logLevel: 'info' as LogLevel,
  debounceMs: 100,
  maxInFlightMiB: 64,
  keepaliveTimeMs: keepaliveDefaults.timeMs,
  keepaliveTimeoutMs: keepaliveDefaults.timeoutMs,
  tlsCert: undefined,
  tlsKey: undefined,
  tlsClientCa: undefined,
  trustDomain: undefined,
  csds: 'loopback' as CsdsMode,
  adminTokenFile: undefined,
  adminTlsCert: undefined,
  adminTlsKey: undefined,
  registries: [] as readonly RegistrySpec[],
  registryLimits: {},
  registryParse: {},
  modelLimits: {},
  limits: {} as Limits,
  limitsFile: undefined,
});

/** The environment variables that set defaults for the flags (a flag wins). */
export const environmentVariables = Object.freeze({
  config: 'XDS_CONFIG',
  xds: 'XDS_ADDRESS',
  admin: 'XDS_ADMIN_ADDRESS',
  logLevel: 'XDS_LOG_LEVEL',
});

/** The help text. */
export const usage = `Usage: xds-server [--config FILE] [--xds HOST:PORT] [--admin HOST:PORT] [options]

Serves xDS (ADS, SotW and delta) from a service model file, applying every valid change to the file.
Without --config it serves an embedded example (Istio's Bookinfo: productpage, details, reviews v1-v3, ratings).

Options:
  --config FILE        service model (YAML or JSON), watched for changes        [$${environmentVariables.config}]
  --xds HOST:PORT      xDS gRPC listener, also health and reflection (default ${defaults.xds}) [$${environmentVariables.xds}]
  --admin HOST:PORT    admin HTTP: status page, /debug/*, /metrics (default ${defaults.admin}) [$${environmentVariables.admin}]
  --log-level LEVEL    ${logLevels.join(', ')} (default ${defaults.logLevel})  [$${environmentVariables.logLevel}]
  --debounce-ms MS     quiet time before a config change is applied (default ${defaults.debounceMs})
  --max-in-flight-mib N  response bytes written but not yet flushed, all clients together, in MiB; beyond
                       it, clients due a push take turns (default ${defaults.maxInFlightMiB})
  --keepalive-time-ms MS  HTTP/2 keepalive of the xDS port: ping each connection after MS
                       (default ${defaults.keepaliveTimeMs}, 2 min)
  --keepalive-timeout-ms MS  close a connection whose ping is not answered within MS (default
                       ${defaults.keepaliveTimeoutMs}); keep it above the drain time (--limit drainTimeoutMs): a
                       ping waits behind the bytes already queued for a slow reader
${modelLimitsUsage()}

Security (certificate and key files are reloaded when they change; new connections use the new ones):
  --tls-cert FILE      serve xDS over TLS with this certificate chain (PEM), with --tls-key
  --tls-key FILE       the private key (PEM) of --tls-cert
  --tls-client-ca FILE mutual TLS: clients must present a certificate signed by this CA (PEM)
${trustDomainUsage}  --csds MODE          who may read client status (CSDS) on the xDS port: ${csdsModes.join(', ')}
                       (default ${defaults.csds}: peers on 127.0.0.0/8 or ::1); with --trust-domain CSDS
                       is refused and --csds is not accepted
  --admin-token-file FILE  the admin pages (all but /healthz and /readyz) and CSDS need
                       "Authorization: Bearer TOKEN", TOKEN being the file's content (16+ characters)
  --admin-tls-cert FILE  serve the admin pages over HTTPS with this certificate chain, with --admin-tls-key
  --admin-tls-key FILE   the private key of --admin-tls-cert
  The admin port binds beyond loopback only with both a token and HTTPS.

Service registries (repeatable, in order; services merge into the model, whose routes may target them):
  --registry KIND=LOCATION  kubernetes=KUBECONFIG, consul=http://HOST:PORT,
                       eureka=http://HOST:PORT/eureka[?interval=1s], etcd=http://HOST:PORT/PREFIX;
                       nothing is served until every registry has synced once (/readyz names those pending)
${registryLimitsUsage()}

${limitsUsage()}

  -h, --help           print this help
  --version            print the version
`;

/** Flags that need each other, empty file names, a malformed trust domain. */
function securityProblems(
  flags: {
    readonly [K in
      | 'tlsCert'
      | 'tlsKey'
      | 'tlsClientCa'
      | 'trustDomain'
      | 'adminTokenFile'
      | 'adminTlsCert'
      | 'adminTlsKey']: string | undefined;
  },
): (string | undefined)[] {
  return [...securityFlagProblems(flags), ...trustDomainProblems(flags.trustDomain, flags.tlsClientCa)];
}

/** A millisecond flag's problem: not a whole number from 1 to {@link maxMilliseconds}. */
function millisecondsProblem(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return /^\d{1,10}$/.test(value) && Number(value) >= 1 && Number(value) <= maxMilliseconds
    ? undefined
    : `--${flag}: "${value}" is not a whole number of milliseconds from 1 to ${maxMilliseconds}`;
}

function checkAddress(flag: string, value: string): string | undefined {
  const parsed = parseAddress(value);
  return typeof parsed === 'string' ? `--${flag}: ${parsed}` : undefined;
}

/**
 * Parses the arguments (after `node bin.js`) with environment defaults. Unknown flags, missing values,
 * positional arguments, bad addresses and levels are usage errors, each with a message naming the flag.
 */
export function parseCommandLine(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): ParsedCommandLine {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    const parsed = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: 'string' },
        xds: { type: 'string' },
        admin: { type: 'string' },
        'log-level': { type: 'string' },
        'debounce-ms': { type: 'string' },
        'max-in-flight-mib': { type: 'string' },
        'keepalive-time-ms': { type: 'string' },
        'keepalive-timeout-ms': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-client-ca': { type: 'string' },
        ...trustDomainFlagSpec,
        csds: { type: 'string' },
        'admin-token-file': { type: 'string' },
        'admin-tls-cert': { type: 'string' },
        'admin-tls-key': { type: 'string' },
        registry: { type: 'string', multiple: true },
        'registry-limit': { type: 'string', multiple: true },
        'model-limit': { type: 'string', multiple: true },
        ...limitFlagSpecs,
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    });
    values = parsed.values;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { kind: 'usage-error', message: message.replace(/\. To specify a positional.*$/s, '') };
  }
  if (values['help'] === true) return { kind: 'help' };
  if (values['version'] === true) return { kind: 'version' };
  const pick = (flag: string, variable: string): string | undefined => {
    const value = values[flag];
    if (typeof value === 'string') return value;
    const fromEnv = env[variable];
    return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
  };
  const config = pick('config', environmentVariables.config);
  const xds = pick('xds', environmentVariables.xds) ?? defaults.xds;
  const admin = pick('admin', environmentVariables.admin) ?? defaults.admin;
  const level = pick('log-level', environmentVariables.logLevel) ?? defaults.logLevel;
  const debounce = typeof values['debounce-ms'] === 'string' ? values['debounce-ms'] : undefined;
  const inFlight = typeof values['max-in-flight-mib'] === 'string' ? values['max-in-flight-mib'] : undefined;
  const flag = (name: string): string | undefined =>
    typeof values[name] === 'string' ? (values[name] as string) : undefined;
  const keepaliveTime = flag('keepalive-time-ms');
  const keepaliveTimeout = flag('keepalive-timeout-ms');
  const security = {
    tlsCert: flag('tls-cert'),
    tlsKey: flag('tls-key'),
    tlsClientCa: flag('tls-client-ca'),
    trustDomain: flag('trust-domain'),
    adminTokenFile: flag('admin-token-file'),
    adminTlsCert: flag('admin-tls-cert'),
    adminTlsKey: flag('admin-tls-key'),
  };
  const csds = flag('csds');
  const registries = registrySpecs(values['registry']);
  const limitFlags = readLimitFlags(values);
  const problems = [
    config === '' ? '--config: the file name is empty' : undefined,
    'usage' in limitFlags ? limitFlags.usage : undefined,
    checkAddress('xds', xds),
    checkAddress('admin', admin),
    logLevels.includes(level as LogLevel)
      ? undefined
      : `--log-level: "${level}" is not one of ${logLevels.join(', ')}`,
    debounce === undefined || /^\d{1,7}$/.test(debounce)
      ? undefined
      : `--debounce-ms: "${debounce}" is not a whole number of milliseconds`,
    inFlight === undefined || (/^\d{1,6}$/.test(inFlight) && Number(inFlight) >= 1)
      ? undefined
      : `--max-in-flight-mib: "${inFlight}" is not a whole number of MiB from 1`,
    millisecondsProblem('keepalive-time-ms', keepaliveTime),
    millisecondsProblem('keepalive-timeout-ms', keepaliveTimeout),
    ...securityProblems(security),
    csds === undefined || (csdsModes as readonly string[]).includes(csds)
      ? undefined
      : `--csds: "${csds}" is not one of ${csdsModes.join(', ')}`,
    csds !== undefined && security.trustDomain !== undefined
      ? '--csds: with --trust-domain, CSDS is refused (node identity); leave --csds out'
      : undefined,
    ...registries.problems,
  ].filter((problem) => problem !== undefined);
  if (problems.length > 0) return { kind: 'usage-error', message: problems.join('\n') };
  if ('refused' in limitFlags) return { kind: 'refused', message: limitFlags.refused };
  const registryLimits = parseRegistryLimitFlags(values['registry-limit']);
  if (typeof registryLimits === 'string') return { kind: 'refused', message: registryLimits };
  const modelLimits = parseModelLimitFlags(values['model-limit']);
  if (typeof modelLimits === 'string') return { kind: 'refused', message: modelLimits };
  if ('usage' in limitFlags) return { kind: 'usage-error', message: limitFlags.usage };
  const exposed = adminExposureRefusal(admin, security);
  if (exposed !== undefined) return { kind: 'refused', message: exposed };
  return {
    kind: 'run',
    options: {
      config,
      xds,
      admin,
      logLevel: level as LogLevel,
      debounceMs: debounce === undefined ? defaults.debounceMs : Number(debounce),
      maxInFlightMiB: inFlight === undefined ? defaults.maxInFlightMiB : Number(inFlight),
      keepaliveTimeMs: keepaliveTime === undefined ? defaults.keepaliveTimeMs : Number(keepaliveTime),
      keepaliveTimeoutMs:
        keepaliveTimeout === undefined ? defaults.keepaliveTimeoutMs : Number(keepaliveTimeout),
      ...security,
      csds: (csds ?? defaults.csds) as CsdsMode,
      registries: registries.specs,
      registryLimits: registryLimits.limits,
      registryParse: registryLimits.parse,
      modelLimits,
      limits: limitFlags.limits,
      limitsFile: limitFlags.limitsFile,
    },
  };
}

/** The `--registry` values parsed, or one problem line each. */
function registrySpecs(value: string | boolean | string[] | undefined): {
  specs: RegistrySpec[];
  problems: string[];
} {
  const specs: RegistrySpec[] = [];
  const problems: string[] = [];
  for (const text of Array.isArray(value) ? value : []) {
    try {
      specs.push(parseRegistrySpec(text));
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
    }
  }
  return { specs, problems };
}
