import { parseArgs } from 'node:util';
import { parseAddress } from './address.js';
import { type LogLevel, logLevels } from './logger.js';

/** What the command line asks for. */
export interface CommandLine {
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
}

/** The outcome of {@link parseCommandLine}: run, print help or version, or a usage error (exit 2). */
export type ParsedCommandLine =
  | { readonly kind: 'run'; readonly options: CommandLine }
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'usage-error'; readonly message: string };

/** The defaults: both listeners on loopback. */
export const defaults = Object.freeze({
  xds: '127.0.0.1:18000',
  admin: '127.0.0.1:18001',
  logLevel: 'info' as LogLevel,
  debounceMs: 100,
  maxInFlightMiB: 64,
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
  -h, --help           print this help
  --version            print the version
`;

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
  let values: Record<string, string | boolean | undefined>;
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
  const problems = [
    config === '' ? '--config: the file name is empty' : undefined,
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
  ].filter((problem) => problem !== undefined);
  if (problems.length > 0) return { kind: 'usage-error', message: problems.join('\n') };
  return {
    kind: 'run',
    options: {
      config,
      xds,
      admin,
      logLevel: level as LogLevel,
      debounceMs: debounce === undefined ? defaults.debounceMs : Number(debounce),
      maxInFlightMiB: inFlight === undefined ? defaults.maxInFlightMiB : Number(inFlight),
    },
  };
}
