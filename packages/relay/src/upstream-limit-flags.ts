/**
 * `--upstream-limit NAME=VALUE` and `--ready-grace-ms N`: how `xds-relay` sets the bounds on what its origin can make
 * each group's upstream client keep (`@xds/client`'s `ClientLimits`, rule L2 seen from the client's side: versions,
 * nonces, resource bytes) and how long a group may lack a live upstream before readiness counts it as failing (rule
 * X3). The shape is `--limit`'s (limit-flags.ts of `@xds/reference-server`); the names and defaults are the client's
 * own (`defaultClientLimits`), so the flag, `--help`, `docs/security.md` and the client agree.
 */
import { type ClientLimitName, type ClientLimits, defaultClientLimits } from '@xds/client';

/** The largest value either flag may give: 2^31 - 1 (the longest timer Node runs); the smallest is 1. */
export const maxUpstreamLimitValue = 2_147_483_647;

/** The default of `--ready-grace-ms`: a group may be without a live upstream stream this long (ms). */
export const defaultReadyGraceMs = 30_000;

/** What each upstream limit bounds, one line each, for `--help` (the client's JSDoc says what happens past it). */
export const upstreamLimitMeanings: { readonly [K in ClientLimitName]-?: string } = Object.freeze({
  maxMessageBytes: 'bytes of one upstream response (past it the stream ends)',
  maxResourcesPerType: 'resources a group holds of one type',
  maxRemovedPerResponse: 'names one delta response removes (counted before decoding)',
  maxNameBytes: 'bytes of one resource name',
  maxErrorDetailBytes: 'bytes of a NACK message the relay sends upstream',
  maxVersionBytes: 'bytes of a version (response or delta resource), forwarded downstream',
  maxNonceBytes: 'bytes of a response nonce (past it the stream ends and reconnects)',
  maxResourceBytes: 'bytes of one encoded resource (past it the response is NACKed)',
  maxResourceBytesPerType: 'encoded bytes a group holds of one type',
  maxResourceBytesTotal: 'encoded bytes a group holds across every type',
  maxQueuedRequestBytes: 'bytes of requests written upstream and not yet read (then coalesced)',
  drainTimeoutMs: 'ms upstream requests may wait for an origin that does not read (then reconnect)',
});

const names = Object.keys(defaultClientLimits) as ClientLimitName[];

/** The `--upstream-limit` and `--ready-grace-ms` section of `--help`: every limit with its default and meaning. */
export function upstreamLimitsUsage(): string {
  const width = Math.max(...names.map((name) => name.length));
  const rows = names.map(
    (name) =>
      `    ${name.padEnd(width)} ${String(defaultClientLimits[name]).padStart(9)}  ${upstreamLimitMeanings[name]}`,
  );
  return [
    `Limits on what the origin controls, per group's upstream client (repeatable; each a whole number from 1 to`,
    `${maxUpstreamLimitValue}; a response past one is NACKed upstream naming it, and the group keeps what it held):`,
    '  --upstream-limit NAME=VALUE  e.g. --upstream-limit maxResourceBytes=1048576; NAME (default, meaning) is one of:',
    ...rows,
    `  --ready-grace-ms N     ms a group may be without a live upstream stream before /readyz counts it as failing`,
    `                         (default ${defaultReadyGraceMs})`,
  ].join('\n');
}

/**
 * Parses the `--upstream-limit` values into {@link ClientLimits}, or returns one line naming the first problem: a
 * value that is not `NAME=VALUE`, an unknown name (with the known ones), a value outside 1…{@link
 * maxUpstreamLimitValue}, or a limit given twice.
 */
export function parseUpstreamLimitFlags(
  values: string | boolean | string[] | undefined,
): ClientLimits | string {
  const limits: Record<string, number> = {};
  for (const text of Array.isArray(values) ? values : []) {
    const equals = text.indexOf('=');
    if (equals <= 0) return `--upstream-limit ${text}: expected NAME=VALUE, e.g. maxResourceBytes=1048576`;
    const name = text.slice(0, equals);
    const value = text.slice(equals + 1);
    if (!Object.hasOwn(defaultClientLimits, name))
      return `--upstream-limit ${text}: "${name}" is not an upstream limit; the limits are ${names.join(', ')}`;
    const number = /^\d{1,10}$/.test(value) ? Number(value) : Number.NaN;
    if (!(number >= 1 && number <= maxUpstreamLimitValue))
      return `--upstream-limit ${text}: ${name} must be a whole number from 1 to ${maxUpstreamLimitValue} (default ${defaultClientLimits[name as ClientLimitName]})`;
    if (Object.hasOwn(limits, name)) return `--upstream-limit ${name} is given twice`;
    limits[name] = number;
  }
  return limits as ClientLimits;
}

/** Checks `--ready-grace-ms`; undefined when it is absent or fine, else the problem naming the flag. */
export function readyGraceProblem(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const number = /^\d{1,10}$/.test(value) ? Number(value) : Number.NaN;
  return number >= 1 && number <= maxUpstreamLimitValue
    ? undefined
    : `--ready-grace-ms: "${value}" is not a whole number from 1 to ${maxUpstreamLimitValue}`;
}

/** The `parseArgs` specs of `--upstream-limit` (repeatable) and `--ready-grace-ms`. */
export const upstreamLimitFlagSpecs = Object.freeze({
  'upstream-limit': { type: 'string', multiple: true },
  'ready-grace-ms': { type: 'string' },
} as const);
