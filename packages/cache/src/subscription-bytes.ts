// Subscriptions known by the bytes of their names. An Envoy repeats every subscribed name in every SotW request,
// and thousands of Envoys send the same list. The server hands the watch the encoded `resource_names` (see
// `SotwRequestInfo.namesBytes`); a list seen before is recognised by comparing bytes, without decoding a name.
// Only plain-name subscriptions are remembered (no `*`, no globs, no name twice), so that equal bytes mean exactly
// that set of names.

const bytesOf = new WeakMap<ReadonlySet<string>, Buffer>();
/** Subscriptions by a sample hash of their names' bytes (verified against the whole bytes on lookup). */
const byKey = new Map<string, WeakRef<ReadonlySet<string>>>();
const maxKeys = 10_000;

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A cheap key of encoded names: their length and a hash of about 64 sampled bytes and the last 16. */
function keyOf(bytes: Uint8Array): string {
  let hash = 2166136261;
  const step = Math.max(1, Math.floor(bytes.length / 64));
  for (let i = 0; i < bytes.length; i += step) hash = Math.imul(hash ^ bytes[i]!, 16777619);
  for (let i = Math.max(0, bytes.length - 16); i < bytes.length; i++)
    hash = Math.imul(hash ^ bytes[i]!, 16777619);
  return `${bytes.length}:${hash >>> 0}`;
}

/** True when `bytes` are the encoded names that made the (plain-name) subscription `names`. */
export function hasBytes(names: ReadonlySet<string>, bytes: Uint8Array): boolean {
  return bytesOf.get(names)?.equals(asBuffer(bytes)) ?? false;
}

/** Remembers that `bytes` encode exactly the plain names of `names` (the first encoding seen wins). */
export function rememberBytes(names: ReadonlySet<string>, bytes: Uint8Array): void {
  if (bytesOf.has(names)) return;
  const copy = Buffer.from(bytes);
  bytesOf.set(names, copy);
  if (byKey.size >= maxKeys) byKey.clear();
  byKey.set(keyOf(copy), new WeakRef(names));
}

/** The remembered subscription whose names' bytes are exactly `bytes`, if any. */
export function subscriptionByBytes(bytes: Uint8Array | undefined): ReadonlySet<string> | undefined {
  if (bytes === undefined) return undefined;
  const key = keyOf(bytes);
  const names = byKey.get(key)?.deref();
  if (names === undefined) {
    byKey.delete(key);
    return undefined;
  }
  return hasBytes(names, bytes) ? names : undefined;
}

/**
 * True when `bytes` are exactly the encoded names of a subscription a watch remembered: names that were accepted
 * before (the server checks a request's names once per distinct list, not at every ACK).
 */
export function isKnownSubscription(bytes: Uint8Array): boolean {
  return subscriptionByBytes(bytes) !== undefined;
}
