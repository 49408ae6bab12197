// Rule L2: REST bodies are bounded one by one (`maxMessageBytes`) and, here, all together: the bytes of the REST
// request bodies a server holds at once (read, parsed, answered) stay within `limits.maxRestBytesInFlight`, so that
// many concurrent large bodies cannot take the server's memory. A request that does not fit is answered 503 with
// Retry-After; the others go on.

/** The REST body bytes one server holds at once, shared by every handler of that server. */
export class RestBodies {
  readonly #limit: number;
  #bytes = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** The most bytes held at once (`limits.maxRestBytesInFlight`). */
  get limit(): number {
    return this.#limit;
  }

  /** The bytes held now. */
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
