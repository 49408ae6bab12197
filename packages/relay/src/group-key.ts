/**
 * The door a downstream node's group key passes before it names anything upstream (rules L5, L2). The key becomes
 * the upstream node id `relay~KEY`, its metadata and, under `--group-by cluster`, its cluster: a key holding a control
 * character would reach the origin as the server's own door (`request-limits.ts`) refuses names, and a key longer
 * than the origin's `maxNodeIdBytes` would make the origin refuse the group's only upstream stream, for every client
 * of the group. Both end the downstream stream with INVALID_ARGUMENT naming the field and the limit; nothing is
 * opened upstream.
 */
import { Code, XdsError } from '@xds/api';

/**
 * The default bound on a group key's bytes (`--max-group-key-bytes`): the upstream node id `relay~KEY` stays far below
 * an origin's default `maxNodeIdBytes` (4 KiB).
 */
export const defaultMaxGroupKeyBytes = 1024;

/** The prefix of every upstream node id. */
export const upstreamNodeIdPrefix = 'relay~';

/** The index of the first C0 control character or DEL in `text`, or -1. */
function controlAt(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return i;
  }
  return -1;
}

/**
 * Throws an XdsError (INVALID_ARGUMENT) when a node's group key holds a control character or is longer than
 * `maxBytes` of UTF-8; `field` says where the key came from (`node.cluster`, `node.metadata["ROLE"]`, `node.id`).
 */
export function checkGroupKey(key: string, field: string, maxBytes: number): void {
  const at = controlAt(key);
  if (at >= 0) {
    const code = `U+${key.charCodeAt(at).toString(16).toUpperCase().padStart(4, '0')}`;
    throw new XdsError(
      Code.InvalidArgument,
      `${field} (the relay group) holds the control character ${code} at ${at}; group names may not hold C0 controls or DEL`,
    );
  }
  // UTF-8 takes at most three bytes per UTF-16 unit: shorter keys need no count of their bytes.
  if (key.length * 3 <= maxBytes) return;
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > maxBytes)
    throw new XdsError(
      Code.InvalidArgument,
      `${field} (the relay group) is ${bytes} bytes, longer than the relay's limit maxGroupKeyBytes ` +
        `(--max-group-key-bytes ${maxBytes})`,
    );
}
