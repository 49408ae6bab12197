/**
 * The `xds-relay` command line: flags, their defaults and the help text. Bad input is a usage error naming the flag
 * (exit 2), never a stack trace.
 */
import { parseArgs } from 'node:util';
import type { ClientLimits } from '@xds/client';
import {
  adminExposureRefusal,
  type LimitFlags,
  type LogLevel,
  limitFlagSpecs,
  limitsUsage,
  logLevels,
  type ParsedCommand,
  parseAddress,
  readLimitFlags,
  readSecurityFlags,
  type SecurityFlags,
  securityFlagProblems,
  securityFlagSpecs,
  securityFlagsUsage,
  trustDomainFlagSpec,
  trustDomainProblems,
  trustDomainUsage,
} from '@xds/reference-server';
import { defaultGroupsPerConnection } from './connection-slots.js';
import { defaultMaxGroups, defaultMaxNewGroupsPerSecond } from './group-admission.js';
import { parseGroupBy } from './group-by.js';
import { defaultMaxGroupKeyBytes } from './group-key.js';
import { defaultAnswerWaitMs } from './group-upstream.js';
import { defaultMaxGroupsPerPeer, defaultMaxNewGroupsPerSecondPerPeer } from './peer-share.js';
import {
  defaultMaxNameBytesAllGroups,
  defaultMaxNameBytesPerGroup,
  defaultMaxNamesAllGroups,
  defaultMaxResourceBytesAllGroups,
} from './relay-budget.js';
import { defaultMaxNamesPerGroup } from './relay-cache-types.js';
import {
  defaultReadyGraceMs,
  parseUpstreamLimitFlags,
  readyGraceProblem,
  upstreamLimitFlagSpecs,
  upstreamLimitsUsage,
} from './upstream-limit-flags.js';
import { type UpstreamTlsFlags, upstreamTlsProblems } from './upstream-tls.js';

/**
 * What the command line asks for: the relay's own flags, and the security and limit flags it shares with
 * `xds-server` (the limits bound what downstream clients control, rule L2).
 */
export interface RelayCommandLine extends SecurityFlags, UpstreamTlsFlags, LimitFlags {
  /** The upstream servers, in failover order. */
  readonly upstreams: readonly string[];
  /** Where downstream xDS (gRPC) listens. */
  readonly xds: string;
  /** Where the admin HTTP server listens. */
  readonly admin: string;
  /** `node-id`, `cluster` or `metadata:KEY`. */
  readonly groupBy: string;
  /** The upstream protocol. */
  readonly upstreamProtocol: 'sotw' | 'delta';
  /** The most groups (upstream streams) at once, idle ones included. */
  readonly maxGroups: number;
  /** The most new groups (new upstream streams) a second. */
  readonly maxNewGroupsPerSecond: number;
  /** Each downstream peer's share: groups its clients are in at once. */
  readonly maxGroupsPerPeer: number;
  /** Each downstream peer's share: new groups a second. */
  readonly maxNewGroupsPerSecondPerPeer: number;
  /** How long a group without downstream clients keeps its upstream stream before it is freed (ms). */
  readonly groupIdleMs: number;
  /** The most names of one type a group's downstream watches subscribe to together (its upstream request). */
  readonly maxNamesPerGroup: number;
  /** The most names of every group's subscriptions of every type together. */
  readonly maxNamesAllGroups: number;
  /** Bytes of the names of one type a group subscribes to upstream. */
  readonly maxNameBytesPerGroup: number;
  /** Bytes of the names of every group's subscriptions together. */
  readonly maxNameBytesAllGroups: number;
  /** The most encoded bytes of resources every group's upstream client holds together. */
  readonly maxResourceBytesAllGroups: number;
  /** The most bytes of a group key (the upstream node id is `relay~KEY`). */
  readonly maxGroupKeyBytes: number;
  /** The most groups whose upstream streams share one HTTP/2 connection. */
  readonly groupsPerConnection: number;
  /** Bounds on what the origin can make each group's upstream client keep (`--upstream-limit NAME=VALUE`). */
  readonly upstreamLimits: ClientLimits;
  /** How long a group may be without a live upstream stream before readiness counts it as failing (ms). */
  readonly readyGraceMs: number;
  /**
   * How long a group's watches wait for the upstream to answer a request that asks for more (the wildcard or new
   * names) on a connected stream before the view counts as covering it (ms; `RelayOptions.upstreamAnswerWaitMs`).
   */
  readonly upstreamAnswerWaitMs: number;
  /** Node identity (rule L6): SPIFFE IDs of this trust domain may claim the Istio node ids of their namespace. */
  readonly trustDomain: string | undefined;
  readonly logLevel: LogLevel;
}

/**
 * The outcome of {@link parseRelayCommandLine}: run, help, version, a usage error (exit 2 with the usage) or a
 * refusal of flags that parse but are unsafe together (exit 2 with one line).
 */
export type ParsedRelayCommandLine = ParsedCommand<RelayCommandLine>;

/** The defaults: both listeners on loopback, beside a reference server's 18000/18001. */
export const relayDefaults = Object.freeze({
  xds: '127.0.0.1:18010',
  admin: '127.0.0.1:18011',
  groupBy: 'node-id',
  upstreamProtocol: 'delta' as const,
  maxGroups: defaultMaxGroups,
  maxNewGroupsPerSecond: defaultMaxNewGroupsPerSecond,
  maxGroupsPerPeer: defaultMaxGroupsPerPeer,
  maxNewGroupsPerSecondPerPeer: defaultMaxNewGroupsPerSecondPerPeer,
  groupIdleMs: 60_000,
  maxNamesPerGroup: defaultMaxNamesPerGroup,
  maxNamesAllGroups: defaultMaxNamesAllGroups,
  maxNameBytesPerGroup: defaultMaxNameBytesPerGroup,
  maxNameBytesAllGroups: defaultMaxNameBytesAllGroups,
  maxResourceBytesAllGroups: defaultMaxResourceBytesAllGroups,
  maxGroupKeyBytes: defaultMaxGroupKeyBytes,
  groupsPerConnection: defaultGroupsPerConnection,
  readyGraceMs: defaultReadyGraceMs,
  upstreamAnswerWaitMs: defaultAnswerWaitMs,
  logLevel: 'info' as LogLevel,
});

/** The help text. */
export const relayUsage = `Usage: xds-relay --upstream HOST:PORT[,HOST:PORT...] [--xds HOST:PORT] [--admin HOST:PORT] [options]

Relays xDS from upstream servers to many downstream clients: one upstream stream per group of nodes, the
origin's versions and bytes passed through, and what it holds served on when every upstream is gone.

Options:
  --upstream LIST        upstream xDS servers, comma-separated, tried in order (required)
  --xds HOST:PORT        downstream xDS gRPC listener, also health (default ${relayDefaults.xds})
  --admin HOST:PORT      admin HTTP: status page, /debug/syncz, /healthz, /readyz, /metrics (default ${relayDefaults.admin})
  --group-by HOW         node-id, cluster or metadata:KEY (default ${relayDefaults.groupBy})
  --upstream-protocol P  sotw or delta (default ${relayDefaults.upstreamProtocol})
  --max-groups N         groups (upstream streams, ~270 KB each) at most, idle ones included: the oldest idle group
                         gives way; a node of one more group is refused (default ${relayDefaults.maxGroups})
  --max-new-groups-per-second N  new groups (new upstream streams) a second at most, in bursts of one second's
                         worth; a node of one more new group is refused and retries (default ${relayDefaults.maxNewGroupsPerSecond})
  --max-groups-per-peer N  each downstream peer's share (an IPv4 address, an IPv6 /64): groups its clients are in at
                         once; a node of one more group from it is refused (default ${relayDefaults.maxGroupsPerPeer})
  --max-new-groups-per-second-per-peer N  each downstream peer's share of the new groups a second; past it that
                         peer's new group is refused, the others' are not (default ${relayDefaults.maxNewGroupsPerSecondPerPeer})
  --group-idle-ms N      ms a group without downstream clients keeps its upstream stream (holding no resources)
                         before it is freed (default ${relayDefaults.groupIdleMs})
  --upstream-answer-wait-ms N  ms a group's watches wait for the upstream to answer a request asking for more
                         (the wildcard or new names) on a connected stream before its view counts as covering it
                         (default ${relayDefaults.upstreamAnswerWaitMs}); a type never answered waits for its answer
  --max-names-per-group N  names of one type a group subscribes to upstream at most; a downstream stream that would
                         pass it is refused, the group is not (default ${relayDefaults.maxNamesPerGroup})
  --max-names-all-groups N  names of every group's subscriptions together at most (~700 B of memory each); a
                         downstream stream that would pass it is refused (default ${relayDefaults.maxNamesAllGroups})
  --max-name-bytes-per-group N  bytes of the names of one type a group subscribes to upstream at most (below the
                         origin's maxRequestBytes); past it that stream is refused (default ${relayDefaults.maxNameBytesPerGroup})
  --max-name-bytes-all-groups N  bytes of the names of every group's subscriptions together at most; past it that
                         stream is refused (default ${relayDefaults.maxNameBytesAllGroups})
  --max-resource-bytes-all-groups N  encoded bytes of resources every group holds together at most (4-8x in memory);
                         an upstream resource past it is NACKed naming it, and a node of a new group is refused
                         while the relay holds that much (default ${relayDefaults.maxResourceBytesAllGroups})
  --max-group-key-bytes N  bytes of a node's group key (its node id, cluster or metadata value) at most; a node
                         with a longer key, or one holding a control character, is refused
                         (default ${relayDefaults.maxGroupKeyBytes})
  --groups-per-connection N  groups whose upstream streams share one HTTP/2 connection; keep it below the
                         origin's maxStreamsPerConnection (default ${relayDefaults.groupsPerConnection})
  --log-level LEVEL      ${logLevels.join(', ')} (default ${relayDefaults.logLevel})

Security, downstream and admin (as xds-server's; certificate and key files are reloaded when they change):
${securityFlagsUsage}${trustDomainUsage}  With --tls-client-ca, client status (CSDS) is refused on the xDS port: it shows every downstream node's
                       configuration; operators read it on the admin port (/debug/config_dump?node=ID). Without
                       it, CSDS on the xDS port answers loopback peers (127.0.0.0/8, ::1) only.

Security, upstream (reloaded when they change; a new upstream connection uses the new files):
  --upstream-ca FILE     connect to the upstreams over TLS, trusting this CA (PEM)
  --upstream-cert FILE   mutual TLS: the relay's client certificate chain (PEM), with --upstream-key
  --upstream-key FILE    the private key (PEM) of --upstream-cert

${upstreamLimitsUsage()}

${limitsUsage()}

  -h, --help             print this help
  --version              print the version
`;

function checkAddress(flag: string, value: string): string | undefined {
  const parsed = parseAddress(value);
  return typeof parsed === 'string' ? `--${flag}: ${parsed}` : undefined;
}

/** Parses the arguments (after `node bin.js`); every problem is named in one usage error. */
export function parseRelayCommandLine(args: readonly string[]): ParsedRelayCommandLine {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    values = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        upstream: { type: 'string' },
        xds: { type: 'string' },
        admin: { type: 'string' },
        'group-by': { type: 'string' },
        'upstream-protocol': { type: 'string' },
        'max-groups': { type: 'string' },
        'max-new-groups-per-second': { type: 'string' },
        'max-groups-per-peer': { type: 'string' },
        'max-new-groups-per-second-per-peer': { type: 'string' },
        'group-idle-ms': { type: 'string' },
        'upstream-answer-wait-ms': { type: 'string' },
        'max-names-per-group': { type: 'string' },
        'max-names-all-groups': { type: 'string' },
        'max-name-bytes-per-group': { type: 'string' },
        'max-name-bytes-all-groups': { type: 'string' },
        'max-resource-bytes-all-groups': { type: 'string' },
        'max-group-key-bytes': { type: 'string' },
        'groups-per-connection': { type: 'string' },
        'log-level': { type: 'string' },
        ...securityFlagSpecs,
        ...trustDomainFlagSpec,
        'upstream-ca': { type: 'string' },
        'upstream-cert': { type: 'string' },
        'upstream-key': { type: 'string' },
        ...limitFlagSpecs,
        ...upstreamLimitFlagSpecs,
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    }).values;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { kind: 'usage-error', message: message.replace(/\. To specify a positional.*$/s, '') };
  }
  if (values['help'] === true) return { kind: 'help' };
  if (values['version'] === true) return { kind: 'version' };
  const text = (flag: string) => (typeof values[flag] === 'string' ? (values[flag] as string) : undefined);
  const upstreams = (text('upstream') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const xds = text('xds') ?? relayDefaults.xds;
  const admin = text('admin') ?? relayDefaults.admin;
  const groupBy = text('group-by') ?? relayDefaults.groupBy;
  const protocol = text('upstream-protocol') ?? relayDefaults.upstreamProtocol;
  const maxGroups = text('max-groups');
  const newGroups = text('max-new-groups-per-second');
  const peerGroups = text('max-groups-per-peer');
  const peerNewGroups = text('max-new-groups-per-second-per-peer');
  const idleMs = text('group-idle-ms');
  const answerWaitMs = text('upstream-answer-wait-ms');
  const maxNames = text('max-names-per-group');
  const maxNamesAll = text('max-names-all-groups');
  const nameBytes = text('max-name-bytes-per-group');
  const nameBytesAll = text('max-name-bytes-all-groups');
  const maxBytesAll = text('max-resource-bytes-all-groups');
  const maxKey = text('max-group-key-bytes');
  const perConnection = text('groups-per-connection');
  const level = text('log-level') ?? relayDefaults.logLevel;
  const security = readSecurityFlags(values);
  const trustDomain = text('trust-domain');
  const upstreamTls: UpstreamTlsFlags = {
    upstreamCa: text('upstream-ca'),
    upstreamCert: text('upstream-cert'),
    upstreamKey: text('upstream-key'),
  };
  const limitFlags = readLimitFlags(values);
  const upstreamLimits = parseUpstreamLimitFlags(values['upstream-limit']);
  const readyGrace = text('ready-grace-ms');
  let groupProblem: string | undefined;
  try {
    parseGroupBy(groupBy);
  } catch (error) {
    groupProblem = error instanceof Error ? error.message : String(error);
  }
  const problems = [
    upstreams.length === 0 ? '--upstream: give at least one HOST:PORT' : undefined,
    ...upstreams.map((u) => checkAddress('upstream', u)),
    checkAddress('xds', xds),
    checkAddress('admin', admin),
    groupProblem,
    protocol === 'sotw' || protocol === 'delta'
      ? undefined
      : `--upstream-protocol: "${protocol}" is not sotw or delta`,
    maxGroups === undefined || (/^\d{1,7}$/.test(maxGroups) && Number(maxGroups) >= 1)
      ? undefined
      : `--max-groups: "${maxGroups}" is not a whole number from 1`,
    newGroups === undefined || (/^\d{1,7}$/.test(newGroups) && Number(newGroups) >= 1)
      ? undefined
      : `--max-new-groups-per-second: "${newGroups}" is not a whole number from 1 to 9999999`,
    peerGroups === undefined || (/^\d{1,7}$/.test(peerGroups) && Number(peerGroups) >= 1)
      ? undefined
      : `--max-groups-per-peer: "${peerGroups}" is not a whole number from 1`,
    peerNewGroups === undefined || (/^\d{1,7}$/.test(peerNewGroups) && Number(peerNewGroups) >= 1)
      ? undefined
      : `--max-new-groups-per-second-per-peer: "${peerNewGroups}" is not a whole number from 1 to 9999999`,
    idleMs === undefined ||
    (/^\d{1,10}$/.test(idleMs) && Number(idleMs) >= 1 && Number(idleMs) <= 2_147_483_647)
      ? undefined
      : `--group-idle-ms: "${idleMs}" is not a whole number from 1 to 2147483647`,
    answerWaitMs === undefined ||
    (/^\d{1,10}$/.test(answerWaitMs) && Number(answerWaitMs) >= 1 && Number(answerWaitMs) <= 2_147_483_647)
      ? undefined
      : `--upstream-answer-wait-ms: "${answerWaitMs}" is not a whole number from 1 to 2147483647`,
    maxNames === undefined || (/^\d{1,9}$/.test(maxNames) && Number(maxNames) >= 1)
      ? undefined
      : `--max-names-per-group: "${maxNames}" is not a whole number from 1`,
    maxNamesAll === undefined || (/^\d{1,10}$/.test(maxNamesAll) && Number(maxNamesAll) >= 1)
      ? undefined
      : `--max-names-all-groups: "${maxNamesAll}" is not a whole number from 1`,
    nameBytes === undefined || (/^\d{1,15}$/.test(nameBytes) && Number(nameBytes) >= 1)
      ? undefined
      : `--max-name-bytes-per-group: "${nameBytes}" is not a whole number from 1`,
    nameBytesAll === undefined || (/^\d{1,15}$/.test(nameBytesAll) && Number(nameBytesAll) >= 1)
      ? undefined
      : `--max-name-bytes-all-groups: "${nameBytesAll}" is not a whole number from 1`,
    maxBytesAll === undefined || (/^\d{1,15}$/.test(maxBytesAll) && Number(maxBytesAll) >= 1)
      ? undefined
      : `--max-resource-bytes-all-groups: "${maxBytesAll}" is not a whole number from 1`,
    maxKey === undefined || (/^\d{1,7}$/.test(maxKey) && Number(maxKey) >= 1)
      ? undefined
      : `--max-group-key-bytes: "${maxKey}" is not a whole number from 1`,
    perConnection === undefined || (/^\d{1,7}$/.test(perConnection) && Number(perConnection) >= 1)
      ? undefined
      : `--groups-per-connection: "${perConnection}" is not a whole number from 1`,
    logLevels.includes(level as LogLevel)
      ? undefined
      : `--log-level: "${level}" is not one of ${logLevels.join(', ')}`,
    ...securityFlagProblems(security),
    ...trustDomainProblems(trustDomain, security.tlsClientCa),
    // Node identity checks the node id (and metadata NAMESPACE): a group keyed by anything else could be joined by
    // a node of another namespace, which would then be served that group's configuration.
    trustDomain === undefined || groupBy === 'node-id' || groupBy === 'metadata:NAMESPACE'
      ? undefined
      : `--group-by ${groupBy} with --trust-domain: node identity does not check it, so a node of one namespace could join another's group; use node-id or metadata:NAMESPACE`,
    ...upstreamTlsProblems(upstreamTls),
    typeof upstreamLimits === 'string' ? upstreamLimits : undefined,
    readyGraceProblem(readyGrace),
    'usage' in limitFlags ? limitFlags.usage : undefined,
  ].filter((problem) => problem !== undefined);
  if (problems.length > 0 || typeof upstreamLimits === 'string')
    return { kind: 'usage-error', message: problems.join('\n') };
  if ('refused' in limitFlags) return { kind: 'refused', message: limitFlags.refused };
  if ('usage' in limitFlags) return { kind: 'usage-error', message: limitFlags.usage };
  const refusal = adminExposureRefusal(admin, security);
  if (refusal !== undefined) return { kind: 'refused', message: refusal };
  return {
    kind: 'run',
    options: {
      upstreams,
      xds,
      admin,
      groupBy,
      upstreamProtocol: protocol as 'sotw' | 'delta',
      maxGroups: maxGroups === undefined ? relayDefaults.maxGroups : Number(maxGroups),
      maxNewGroupsPerSecond:
        newGroups === undefined ? relayDefaults.maxNewGroupsPerSecond : Number(newGroups),
      maxGroupsPerPeer: peerGroups === undefined ? relayDefaults.maxGroupsPerPeer : Number(peerGroups),
      maxNewGroupsPerSecondPerPeer:
        peerNewGroups === undefined ? relayDefaults.maxNewGroupsPerSecondPerPeer : Number(peerNewGroups),
      groupIdleMs: idleMs === undefined ? relayDefaults.groupIdleMs : Number(idleMs),
      maxNamesPerGroup: maxNames === undefined ? relayDefaults.maxNamesPerGroup : Number(maxNames),
      maxNamesAllGroups: maxNamesAll === undefined ? relayDefaults.maxNamesAllGroups : Number(maxNamesAll),
      maxNameBytesPerGroup: nameBytes === undefined ? relayDefaults.maxNameBytesPerGroup : Number(nameBytes),
      maxNameBytesAllGroups:
        nameBytesAll === undefined ? relayDefaults.maxNameBytesAllGroups : Number(nameBytesAll),
      maxResourceBytesAllGroups:
        maxBytesAll === undefined ? relayDefaults.maxResourceBytesAllGroups : Number(maxBytesAll),
      maxGroupKeyBytes: maxKey === undefined ? relayDefaults.maxGroupKeyBytes : Number(maxKey),
      groupsPerConnection:
        perConnection === undefined ? relayDefaults.groupsPerConnection : Number(perConnection),
      logLevel: level as LogLevel,
      ...security,
      trustDomain,
      ...upstreamTls,
      upstreamLimits,
      readyGraceMs: readyGrace === undefined ? relayDefaults.readyGraceMs : Number(readyGrace),
      upstreamAnswerWaitMs:
        answerWaitMs === undefined ? relayDefaults.upstreamAnswerWaitMs : Number(answerWaitMs),
      limits: limitFlags.limits,
      limitsFile: limitFlags.limitsFile,
    },
  };
}
