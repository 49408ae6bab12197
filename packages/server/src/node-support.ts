// Which Node versions carry the fix of the HTTP/2 abort in docs/security.md "Known issue" (rule L4: no input takes
// the server down), so that xds-server and xds-relay can say at start, in one line, when they run on a Node without
// it. The server guards itself on every Node (session-guard.ts); the line tells the operator which Node to prefer.

/**
 * The first release of each supported Node line that frees a removed HTTP/2 stream's header memory at once ("http2:
 * release headers when a stream is removed" with "retain streams during pending writes", 2026-11-11). Node 20 left
 * support on 2026-04-30 and has no such release; odd lines are short-lived and not listed.
 */
export const fixedNodeReleases: Readonly<Record<number, string>> = Object.freeze({
  22: '22.23.5',
  24: '24.22.3',
});

/** Lines past these are not checked here (their first releases came out before the fix; see the docs). */
const lastCheckedLine = 25;

/** `[major, minor, patch]` of a version like `20.20.2` or `v20.20.2`; undefined when it is not one. */
function parts(version: string): [number, number, number] | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (match === null) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

/** True when Node `version` has the fix (see {@link fixedNodeReleases}). */
export function nodeHasHttp2Fix(version: string): boolean {
  const v = parts(version);
  if (v === undefined) return false;
  if (v[0] > lastCheckedLine) return true;
  const fixed = fixedNodeReleases[v[0]];
  const f = fixed === undefined ? undefined : parts(fixed);
  if (f === undefined) return false; // Node 20 and older, and the odd lines: past their end of life, no fix
  for (let i = 0; i < 3; i++) if (v[i] !== f[i]) return v[i]! > f[i]!;
  return true;
}

/**
 * The warning xds-server and xds-relay log at start on a Node without the fix (one line), or undefined on one with
 * it. `version` defaults to the running Node's.
 */
export function nodeHttp2Warning(version: string = process.versions.node): string | undefined {
  if (nodeHasHttp2Fix(version)) return undefined;
  const releases = Object.values(fixedNodeReleases).join(' or ');
  return `Node ${version.replace(/^v/, '')} has a known HTTP/2 defect a client can use to abort the process (Http2Session header memory, docs/security.md "Known issue"); the server guards against it, but prefer Node ${releases} or later`;
}
