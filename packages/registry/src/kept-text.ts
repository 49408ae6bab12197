/**
 * Bounds on the text an adapter keeps of what its registry server says, and the one way registry text is cut for
 * display (rule L2: what a client or a file controls is bounded; what is kept for display is cut, and says so). A
 * hostile or broken registry, or anyone who can write to it, used to make the control plane hold strings of any
 * length per object or instance (names, namespaces, port names, zones, addresses, labels, metadata; review Q3, Q9),
 * and a problem's item label quoted a host name or an address whole (review R4). The bounds are the ones a real
 * kube-apiserver enforces, so that no real registry content is refused: an object whose text is past one is not
 * kept (only its key and the reason), and the adapter reports it as a registry problem naming the object.
 */
import { createHash } from 'node:crypto';

/** The longest name kept: a DNS subdomain (Kubernetes object names, Eureka apps, VIPs and instance ids, addresses). */
export const maxKeptNameLength = 253;

/** The longest short name kept: a DNS label (a namespace, a port name, a zone) or a Kubernetes label value. */
export const maxKeptLabelLength = 63;

/** The longest label key kept: Kubernetes' qualified name, a DNS subdomain prefix, `/` and a 63-character name. */
export const maxLabelKeyLength = 317;

/** The most bytes of registry text a problem quotes (an item, a key, a value); longer text is cut, and says so. */
export const maxQuotedBytes = 256;

const encoder = new TextEncoder();

/**
 * `text` cut to `maxBytes` of UTF-8 (never inside a character), saying how long it was:
 * `web…very-long… [cut: 300000 bytes, kept 256]`. Text within the limit comes back as it is.
 */
export function cutText(text: string, maxBytes: number = maxQuotedBytes): string {
  // a UTF-16 unit is at most 3 bytes of UTF-8: short text needs no count
  if (text.length * 3 <= maxBytes) return text;
  const room = new Uint8Array(maxBytes);
  const { read, written } = encoder.encodeInto(text, room);
  if (read === text.length) return text;
  return `${text.slice(0, read)}… [cut: ${Buffer.byteLength(text)} bytes, kept ${written}]`;
}

/** A value from a registry quoted for a problem: JSON text of at most about {@link maxQuotedBytes}. */
export function quoted(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(cutText(value));
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'a list' : 'an object';
}

/**
 * Why a string from a registry is not kept, or undefined when it is one of at most `max` characters: `what` names
 * the field (`metadata.name`), `bound` the limit (`a DNS subdomain`).
 */
export function textProblem(what: string, value: unknown, max: number, bound: string): string | undefined {
  if (typeof value !== 'string') return `${what} is not a string`;
  if (value.length <= max) return undefined;
  return `${what} is ${value.length} characters, over the limit of ${max} (${bound})`;
}

/**
 * The key of an object by its namespace and name, bounded whatever their length: `namespace/name` when both are
 * within {@link maxKeptNameLength}, else both cut and a digest of the whole, so that two long names keep two keys
 * (and a deletion finds its object) while only a bounded key is held.
 */
export function boundedKey(namespace: string, name: string): string {
  if (namespace.length <= maxKeptNameLength && name.length <= maxKeptNameLength)
    return `${namespace}/${name}`;
  const part = (text: string): string => (text.length <= 64 ? text : `${text.slice(0, 64)}…`);
  const whole = `${namespace}/${name}`;
  const sum = createHash('sha256').update(whole).digest('hex').slice(0, 16);
  return `${part(namespace)}/${part(name)} (${whole.length} characters, sha256 ${sum})`;
}
