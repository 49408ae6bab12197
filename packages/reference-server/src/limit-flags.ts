/**
 * `--limit NAME=VALUE` and `--limits-file FILE`: how `xds-server` and `xds-relay` (which imports them from here) set
 * their xDS server's limits on what clients control (rule L2). The names and defaults are `@xds/server`'s
 * (`defaultLimits`), so the flags, `--help`, `docs/security.md` and the server agree; this file adds only a one-line
 * meaning per limit for `--help`, the range a flag or the file may give, and the merge of the two (flags win).
 */
import { defaultLimits, type Limits, readBoundedFile } from '@xds/server';
import type { ParsedCommand } from './command.js';

/** The name of a limit: a key of `@xds/server`'s {@link Limits}. */
export type LimitName = keyof Limits;

/**
 * The largest value a flag may give any limit: 2^31 - 1, the longest timer Node runs (for the `…Ms` limits) and
 * far beyond any count or size a server holds; the smallest is 1.
 */
export const maxLimitValue = 2_147_483_647;

/** What each limit bounds, one line each, for `--help` (the server's JSDoc says what happens past it). */
export const limitMeanings: { readonly [K in LimitName]-?: string } = Object.freeze({
  maxNamesPerRequest: 'resource names in one request, or in a delta subscription of one type',
  maxRequestBytes: 'bytes of one request message or REST body (at most maxMessageBytes)',
  maxPartialRequestBytesTotal:
    'bytes of request messages partly received, on all calls at once (received plus a look-ahead)',
  maxPartialRequestBytesPerConnection: 'bytes of request messages partly received on one HTTP/2 connection',
  maxPartialRequestBytesPerPeer:
    'bytes of request messages partly received from one peer address, across its connections',
  partialRequestTimeoutMs: 'ms one request message may stay partly received (its first bytes to its last)',
  maxGlobsPerRequest: 'glob names (prefix/*) in one request or delta subscription',
  maxNameBytes: 'bytes of one resource name',
  maxNodeIdBytes: 'bytes of a node id',
  maxNodeBytes: "bytes of a request's node",
  maxNodeListEntries: 'entries of one repeated field or map across a node (Struct entries together)',
  maxNodeMetadataDepth: "Struct and list levels in a node's metadata",
  maxLocatorParameters: "dynamic parameters of a request's resource locators, all together",
  maxErrorDetailBytes: "bytes of a NACK's message kept for status, events and logs",
  firstRequestTimeoutMs: "ms from a stream's opening to its first request",
  maxStreamsPerConnection: 'concurrent xDS streams on one HTTP/2 connection',
  maxStreamsPerNode: 'concurrent xDS streams of one node id from one peer (across peers with --trust-domain)',
  maxPendingStreamsPerPeer: 'xDS streams of one peer address with no first request accepted yet',
  maxNodeBytesPerPeer: "bytes of the distinct nodes one peer address's streams keep",
  drainTimeoutMs: 'ms a stream may leave a response unflushed (its client does not read)',
  maxRegexBytes: 'bytes of one CSDS node-matcher regex',
  maxRegexProgramSize: 'instructions one CSDS regex may compile to (bounded before compiling)',
  maxStatusMatchers: 'node matchers in one CSDS request',
  maxStatusMatcherBytes: 'bytes of one CSDS node matcher',
  maxStatusMatcherNodes:
    'value and string matchers compiled for one CSDS request, all node matchers together',
  maxStatusRegexProgramTotal: 'instructions all the regexes of one CSDS request may compile to together',
  maxStatusMatchSteps:
    'steps of matching one CSDS request may take across every node (RESOURCE_EXHAUSTED past it)',
  maxStatusConfigs: 'resource entries in one CSDS answer',
  maxStatusBytes: 'bytes of one CSDS answer (at most maxMessageBytes)',
  maxStatusUnknownNames:
    'subscribed names with no resource listed per stream and type in a CSDS answer (the rest counted)',
  maxConcurrentStatusCalls: 'CSDS answers built at once, server-wide (more wait, 100 at most)',
  maxStatusCallsPerCaller: 'CSDS calls of one caller (identity or peer address) in flight at once',
  hookTimeoutMs:
    'ms an async server hook (onStreamOpen, onRequest, onResponse) or authorization verdict may take',
  maxQueuedRequests: 'requests a stream may send while an earlier one waits for a hook',
  maxQueuedRequestBytes: 'bytes of the requests a stream may send while an earlier one waits for a hook',
  maxQueuedRequestBytesTotal: 'bytes of the requests queued behind hooks on all streams at once',
  maxRestBytesInFlight: 'memory of REST request bodies held at once (3x their bytes), across requests',
  maxRestBytesInFlightPerPeer:
    'the part of maxRestBytesInFlight the REST bodies of one peer address (IPv4, or IPv6 /64) may hold',
  maxUnknownTypesPerStream: 'types an ADS stream may subscribe to that the server does not serve',
  maxConnections: 'TCP connections the xDS listener holds at once (past it: closed at accept)',
  maxConnectionsPerPeer:
    'TCP connections from one peer address at once (default: 1,024 or a quarter of maxConnections; raise it behind a NAT)',
  connectionSetupTimeoutMs:
    "ms from accept to a connection's first stream (TLS handshake, preface); then closed",
  maxConnectionIdleMs:
    'ms a connection may stay with no stream open once it has opened one; then closed (the longest-idle one also makes room when maxConnections is reached)',
  maxNamesPerStream: 'names (and globs) one stream holds subscribed, over all of its types',
  maxNamesPerUnknownType: 'names one stream subscribes to of a type the server does not serve',
  maxSubscriptionBytesTotal:
    'heap of subscribed names on all streams (2 x bytes + 40 per name; default 2 GB)',
  maxSubscriptionBytesPerConnection: 'heap of subscribed names on the streams of one HTTP/2 connection',
  maxSubscriptionBytesPerPeer:
    'heap of subscribed names on the streams of one peer address (raise it behind a NAT)',
});

/** The largest `--limits-file` read, in bytes: the file holds at most a few hundred. */
export const maxLimitsFileBytes = 64 * 1024;

const names = Object.keys(defaultLimits) as LimitName[];

/** Checks one limit; undefined when it is fine, else the problem (without the flag or file it came from). */
function limitProblem(name: string, value: unknown): string | undefined {
  if (!Object.hasOwn(defaultLimits, name))
    return `"${name}" is not a limit; the limits are ${names.join(', ')}`;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= maxLimitValue)
    return undefined;
  return `${name} must be a whole number from 1 to ${maxLimitValue} (default ${defaultLimits[name as LimitName]})`;
}

/** The `--limit` section of `--help`: every limit with its default and meaning. */
export function limitsUsage(): string {
  const width = Math.max(...names.map((name) => name.length));
  const rows = names.map(
    (name) => `    ${name.padEnd(width)} ${String(defaultLimits[name]).padStart(7)}  ${limitMeanings[name]}`,
  );
  return [
    `Limits on what clients control (repeatable; each a whole number from 1 to ${maxLimitValue}; past a limit`,
    'a stream or call ends with RESOURCE_EXHAUSTED, INVALID_ARGUMENT or DEADLINE_EXCEEDED naming it):',
    '  --limits-file FILE   the limits as a JSON object, e.g. {"maxStreamsPerNode": 1000}; --limit wins',
    '  --limit NAME=VALUE   e.g. --limit maxStreamsPerNode=1000; NAME (default, meaning) is one of:',
    ...rows,
  ].join('\n');
}

/**
 * Parses the `--limit` values into {@link Limits}, or returns one line naming the first problem: a value that is
 * not `NAME=VALUE`, an unknown name (with the known ones), a value outside 1…{@link maxLimitValue}, or a limit
 * given twice.
 */
export function parseLimitFlags(values: string | boolean | string[] | undefined): Limits | string {
  const limits: Record<string, number> = {};
  for (const text of Array.isArray(values) ? values : []) {
    const equals = text.indexOf('=');
    if (equals <= 0) return `--limit ${text}: expected NAME=VALUE, e.g. maxStreamsPerNode=1000`;
    const name = text.slice(0, equals);
    const value = text.slice(equals + 1);
    const problem = limitProblem(name, /^\d{1,10}$/.test(value) ? Number(value) : Number.NaN);
    if (problem !== undefined) return `--limit ${text}: ${problem}`;
    if (Object.hasOwn(limits, name)) return `--limit ${name} is given twice`;
    limits[name] = Number(value);
  }
  return limits as Limits;
}

/**
 * Reads `--limits-file`: a JSON object of limit names and whole numbers (`{"maxStreamsPerNode": 1000}`), at most
 * {@link maxLimitsFileBytes}. Returns the limits, or one line naming the file and the first problem.
 */
export function readLimitsFile(file: string): Limits | string {
  const where = `--limits-file ${file}`;
  // Bounded and non-blocking: a FIFO or a device named here must not hang the start (probe Q4).
  const read = readBoundedFile(file, maxLimitsFileBytes);
  if (!read.ok)
    return `${where}: ${read.code === undefined ? read.message : `cannot read the file (${read.code})`}`;
  if (read.bytes.length > maxLimitsFileBytes) return `${where}: more than ${maxLimitsFileBytes} bytes`;
  const text = read.bytes.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return `${where}: not JSON: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return `${where}: expected a JSON object of limits, e.g. {"maxStreamsPerNode": 1000}`;
  for (const [name, value] of Object.entries(parsed)) {
    const problem = limitProblem(name, value);
    if (problem !== undefined) return `${where}: ${problem}, got ${JSON.stringify(value)}`;
  }
  return parsed as Limits;
}

/** The `parseArgs` specs of `--limit` (repeatable) and `--limits-file`, for every command that takes them. */
export const limitFlagSpecs = Object.freeze({
  limit: { type: 'string', multiple: true },
  'limits-file': { type: 'string' },
} as const);

/** What a command line holds of the limit flags: the `--limit` values, and the file read at start. */
export interface LimitFlags {
  /** The xDS server's limits given by `--limit NAME=VALUE` (rule L2); the others keep their defaults. */
  readonly limits: Limits;
  /** A JSON file of limits (`--limits-file`), read at start; `--limit` flags win over it. */
  readonly limitsFile: string | undefined;
}

/**
 * Reads the limit flags from `parseArgs` values: the limits, or a problem line. `usage` (exit 2 with the usage): an
 * empty file name; `refused` (exit 2, one line): a bad `--limit`.
 */
export function readLimitFlags(
  values: Readonly<Record<string, string | boolean | string[] | undefined>>,
): LimitFlags | { readonly usage: string } | { readonly refused: string } {
  const file = values['limits-file'];
  if (file === '') return { usage: '--limits-file: the file name is empty' };
  const limits = parseLimitFlags(values['limit']);
  if (typeof limits === 'string') return { refused: limits };
  return { limits, limitsFile: typeof file === 'string' ? file : undefined };
}

/**
 * A parsed command line with the limits of its `--limits-file` read and put under those of `--limit`; a file that
 * cannot be used turns the command into a refusal naming it (exit 2, one line), before anything starts.
 */
export function withLimitsFile<T extends LimitFlags>(parsed: ParsedCommand<T>): ParsedCommand<T> {
  if (parsed.kind !== 'run' || parsed.options.limitsFile === undefined) return parsed;
  const fromFile = readLimitsFile(parsed.options.limitsFile);
  if (typeof fromFile === 'string') return { kind: 'refused', message: fromFile };
  return { kind: 'run', options: { ...parsed.options, limits: { ...fromFile, ...parsed.options.limits } } };
}
