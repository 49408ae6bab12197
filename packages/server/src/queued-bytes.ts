// Rule L2: requests that queue on a stream while authorization or a hook is pending are bounded in bytes, per stream
// (`limits.maxQueuedRequestBytes`) and across the server (`limits.maxQueuedRequestBytesTotal`), not only in count:
// one request may be as large as the gRPC message limit, so a count alone lets a few streams hold gigabytes.
// This file estimates a decoded request's size and keeps the server-wide tally.

/** Bytes counted for a field that holds no string or bytes (a number, a nested message, a list entry). */
const fieldBytes = 8;
/** Bytes counted for a string or bytes value on top of its length (its tag and length prefix). */
const valueBytes = 2;

/**
 * Estimates the bytes a decoded request holds: the length of its strings and byte arrays, plus a few bytes per field
 * and nested value (unknown fields included), close to its wire size. Walks without recursion (a deep `node.metadata` cannot overflow the
 * stack) and stops once the estimate passes `atMost`, so a huge request costs no more than the limit it breaks.
 */
export function estimateRequestBytes(request: unknown, atMost: number): number {
  let bytes = 0;
  const pending: unknown[] = [request];
  while (pending.length > 0 && bytes <= atMost) {
    const value = pending.pop();
    if (typeof value === 'string') bytes += value.length + valueBytes;
    else if (value instanceof Uint8Array) bytes += value.byteLength + valueBytes;
    else if (Array.isArray(value)) {
      bytes += fieldBytes;
      for (const item of value) pending.push(item);
    } else if (typeof value === 'object' && value !== null) {
      bytes += fieldBytes;
      for (const [key, item] of Object.entries(value)) if (key !== '$typeName') pending.push(item);
    } else if (value !== undefined) bytes += fieldBytes;
  }
  return bytes;
}

/** The bytes queued on every stream of one server (shared by its streams through their context). */
export class QueuedBytesTally {
  #bytes = 0;

  /** The bytes queued now, across the server's streams. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Counts bytes a stream queued. */
  add(bytes: number): void {
    this.#bytes += bytes;
  }

  /** Counts bytes a stream no longer holds (handled or dropped). */
  release(bytes: number): void {
    this.#bytes = Math.max(0, this.#bytes - bytes);
  }
}

const tallies = new WeakMap<object, QueuedBytesTally>();

/** The tally of the server `owner` stands for (its stream registry): one per server, made on first use. */
export function queuedBytesTally(owner: object): QueuedBytesTally {
  let tally = tallies.get(owner);
  if (tally === undefined) {
    tally = new QueuedBytesTally();
    tallies.set(owner, tally);
  }
  return tally;
}
