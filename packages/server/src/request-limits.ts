// The door every request's names pass before they reach a watch (rules L2 and L5): how many names and globs a
// request (and a delta subscription) may hold, how long a name may be, and which characters it may not hold.
// SotW and delta streams call it first thing for every request, and unary Fetch and REST before the cache.
// Going past a count is RESOURCE_EXHAUSTED naming the limit; a bad name is INVALID_ARGUMENT naming its index.
import { Code, type DeltaDiscoveryRequest, type DiscoveryRequest, XdsError } from '@xds/api';
import { isGlob, isKnownSubscription, type Watch } from '@xds/cache';
import { keptNames } from './lazy-names.js';
import type { ResolvedLimits } from './limits.js';
import { controlCharacterIndex } from './names-run.js';

/** The first C0 control character or DEL in a name (rule L5: names are text, never separators), or -1. */
function controlAt(name: string): number {
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return i;
  }
  return -1;
}

function hex(code: number): string {
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

function badCharacter(field: string, index: number, name: string): XdsError {
  const at = controlAt(name);
  return new XdsError(
    Code.InvalidArgument,
    `${field}[${index}] holds the control character ${hex(name.charCodeAt(at))} at ${at}; resource names may not hold C0 controls or DEL`,
  );
}

function tooLong(field: string, index: number, bytes: number, limits: ResolvedLimits): XdsError {
  return new XdsError(
    Code.InvalidArgument,
    `${field}[${index}] is ${bytes} bytes, longer than limits.maxNameBytes (${limits.maxNameBytes})`,
  );
}

function tooMany(what: string, count: number, kind: 'names' | 'globs', limits: ResolvedLimits): XdsError {
  const [limit, label] =
    kind === 'names'
      ? [limits.maxNamesPerRequest, 'maxNamesPerRequest']
      : [limits.maxGlobsPerRequest, 'maxGlobsPerRequest'];
  const noun = kind === 'names' ? 'names' : 'glob names (prefix/*)';
  return new XdsError(
    Code.ResourceExhausted,
    `${what} has ${count} ${noun}, more than limits.${label} (${limit})`,
  );
}

/** Checks each name of a decoded list: its characters (L5) and its length (L2); returns its glob count. */
function checkNames(field: string, names: readonly string[], limits: ResolvedLimits): number {
  let globs = 0;
  // UTF-8 takes at most three bytes per UTF-16 unit: shorter names need no count of their bytes.
  const safeLength = Math.floor(limits.maxNameBytes / 3);
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (controlAt(name) >= 0) throw badCharacter(field, i, name);
    if (name.length > safeLength) {
      const bytes = Buffer.byteLength(name, 'utf8');
      if (bytes > limits.maxNameBytes) throw tooLong(field, i, bytes, limits);
    }
    if (isGlob(name)) globs++;
  }
  return globs;
}

/**
 * Checks a SotW request's `resource_names` (a stream's request, or a Fetch / REST request) and throws an
 * XdsError naming the limit or the name. Names the decoder left encoded are checked from its scan without being
 * decoded; their characters only when the same bytes were not accepted before.
 */
export function checkSotwRequest(limits: ResolvedLimits, request: DiscoveryRequest): void {
  const field = 'resource_names';
  const kept = keptNames(request);
  if (kept === undefined) {
    const names = request.resourceNames;
    if (names.length > limits.maxNamesPerRequest) throw tooMany(field, names.length, 'names', limits);
    const globs = checkNames(field, names, limits);
    if (globs > limits.maxGlobsPerRequest) throw tooMany(field, globs, 'globs', limits);
    return;
  }
  const summary = kept.summary;
  if (summary.count > limits.maxNamesPerRequest) throw tooMany(field, summary.count, 'names', limits);
  if (summary.globs > limits.maxGlobsPerRequest) throw tooMany(field, summary.globs, 'globs', limits);
  if (summary.longestBytes > limits.maxNameBytes)
    throw tooLong(field, summary.longest, summary.longestBytes, limits);
  const bytes = kept.bytes;
  // A subscription the cache knows by these very bytes passed this check when it was first seen.
  if (isKnownSubscription(bytes)) return;
  const bad = controlCharacterIndex(bytes);
  if (bad >= 0) throw badCharacter(field, bad, request.resourceNames[bad]!);
}

/** What a subscription of one type holds after a request: its names and globs, and their bytes (rule L2). */
export interface SubscriptionSize {
  /** Names and globs (`*` not counted). */
  readonly count: number;
  /** Their bytes (UTF-16 units of the strings; a SotW request's encoded run). */
  readonly bytes: number;
}

/**
 * The size of a SotW request's subscription: its names (as the request lists them; `*` and duplicates counted)
 * and their bytes, read from the encoded run when the decoder left them encoded (no name decoded).
 */
export function sotwSubscriptionSize(request: DiscoveryRequest): SubscriptionSize {
  const kept = keptNames(request);
  if (kept !== undefined) return { count: kept.summary.count, bytes: kept.bytes.length };
  const names = request.resourceNames;
  let bytes = 0;
  for (const name of names) bytes += name.length;
  return { count: names.length, bytes };
}

/**
 * Checks a delta request's `resource_names_subscribe` and `resource_names_unsubscribe`, and what the stream's
 * subscription of the type (`watch`, when the type is open; it holds `heldBytes` of names) would hold after it: a
 * delta subscription grows by requests, so it is held to the same limits as one request. Returns that size,
 * counted as the watch applies the request (subscriptions first, then unsubscriptions; a name listed twice once).
 */
export function checkDeltaRequest(
  limits: ResolvedLimits,
  request: DeltaDiscoveryRequest,
  watch: Watch | undefined,
  heldBytes = 0,
): SubscriptionSize {
  const subscribe = request.resourceNamesSubscribe;
  const unsubscribe = request.resourceNamesUnsubscribe;
  const count = subscribe.length + unsubscribe.length;
  if (count > limits.maxNamesPerRequest)
    throw tooMany('resource_names_subscribe + resource_names_unsubscribe', count, 'names', limits);
  const globs = checkNames('resource_names_subscribe', subscribe, limits);
  if (globs > limits.maxGlobsPerRequest) throw tooMany('resource_names_subscribe', globs, 'globs', limits);
  checkNames('resource_names_unsubscribe', unsubscribe, limits);
  const size = watch?.subscriptionSize ?? { names: 0, globs: 0 };
  let names = size.names;
  let globsAfter = size.globs;
  let bytes = heldBytes;
  if (count === 0) return { count: names + globsAfter, bytes };
  const held = (name: string) => watch?.subscribes(name) === true;
  const added = new Set<string>();
  for (const name of subscribe) {
    if (name === '*' || held(name) || added.has(name)) continue;
    added.add(name);
    bytes += name.length;
    if (isGlob(name)) globsAfter++;
    else names++;
  }
  const removed = new Set<string>();
  for (const name of unsubscribe) {
    if (name === '*' || removed.has(name) || !(held(name) || added.has(name))) continue;
    removed.add(name);
    bytes -= name.length;
    if (isGlob(name)) globsAfter--;
    else names--;
  }
  const what = `the delta subscription of ${watch?.typeUrl ?? request.typeUrl}`;
  if (names + globsAfter > limits.maxNamesPerRequest)
    throw tooMany(what, names + globsAfter, 'names', limits);
  if (globsAfter > limits.maxGlobsPerRequest) throw tooMany(what, globsAfter, 'globs', limits);
  return { count: names + globsAfter, bytes };
}
