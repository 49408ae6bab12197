// Rule L2: REST bodies are bounded one by one (`limits.maxRequestBytes`, at most
// `XdsServerOptions.maxMessageBytes`) and, here, all together: the memory of the REST request bodies a server
// holds at once (read, parsed, answered) stays within `limits.maxRestBytesInFlight`, so that many concurrent
// large bodies cannot take the server's memory. A body holds more than its bytes while it is decoded: it is
// counted as {@link restMemoryFactor} times its bytes. A request that does not fit now is answered 503 with
// Retry-After; one that could never fit, 413; the others go on.

/**
 * The memory a REST body holds while it is decoded, per byte of body: its chunks, the joined buffer, the string and
 * the parsed JSON (whose strings the DiscoveryRequest shares). Measured on a server process over loopback: one
 * 48 MiB JSON body (16,000-character resource names) raised the peak RSS by 146 MiB, one of 16 MiB by 48 MiB.
 */
export const restMemoryFactor = 3;

/** The REST body memory one server holds at once ({@link restMemoryFactor} per body byte), shared by its handlers. */
export class RestBodies {
  readonly #limit: number;
  #bytes = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** The most memory held at once, in bytes (`limits.maxRestBytesInFlight`). */
  get limit(): number {
    return this.#limit;
  }

  /** The memory held now, in bytes. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Counts `bytes` more when they fit within the limit; false (nothing counted) when they do not. */
  take(bytes: number): boolean {
    if (this.#bytes + bytes > this.#limit) return false;
    this.#bytes += bytes;
    return true;
  }

  /** Gives back bytes a request no longer holds. */
  give(bytes: number): void {
    this.#bytes = Math.max(0, this.#bytes - bytes);
  }
}

const shared = new WeakMap<object, RestBodies>();

/** The REST body tally of the server `owner` stands for (its stream context): one per server, made on first use. */
export function restBodiesOf(owner: object, limit: number): RestBodies {
  let bodies = shared.get(owner);
  if (bodies === undefined) {
    bodies = new RestBodies(limit);
    shared.set(owner, bodies);
  }
  return bodies;
}
