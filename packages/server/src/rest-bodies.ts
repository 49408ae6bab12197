// Rule L2: REST bodies are bounded one by one (`limits.maxRequestBytes`, at most
// `XdsServerOptions.maxMessageBytes`) and, here, all together: the memory of the REST request bodies a server
// holds at once (read, parsed, answered) stays within `limits.maxRestBytesInFlight`, so that many concurrent
// large bodies cannot take the server's memory. A body holds more than its bytes while it is decoded: it is
// counted as {@link restMemoryFactor} times its bytes. One peer address (an IPv4 address, or an IPv6 /64, as
// connection-gate.ts's `peerKey` counts) holds at most `limits.maxRestBytesInFlightPerPeer` of it, so that a few
// slow uploads from one address cannot refuse every other client (probe7 N6). A request that does not fit now is
// answered 503 with Retry-After naming the limit it passed; one that could never fit, 413; the others go on.

/**
 * The memory a REST body holds while it is decoded, per byte of body: its chunks, the joined buffer, the string and
 * the parsed JSON (whose strings the DiscoveryRequest shares). Measured on a server process over loopback: one
 * 48 MiB JSON body (16,000-character resource names) raised the peak RSS by 146 MiB, one of 16 MiB by 48 MiB.
 */
export const restMemoryFactor = 3;

/** The limit a body's bytes would pass: the server's whole budget, or its peer's share of it. */
export type RestBodiesLimit = 'maxRestBytesInFlight' | 'maxRestBytesInFlightPerPeer';

/**
 * The REST body memory one server holds at once ({@link restMemoryFactor} per body byte), shared by its handlers,
 * and the part of it each peer address holds.
 */
export class RestBodies {
  readonly #limit: number;
  readonly #perPeer: number;
  #bytes = 0;
  readonly #peers = new Map<string, number>();

  constructor(limit: number, perPeer: number) {
    this.#limit = limit;
    this.#perPeer = perPeer;
  }

  /** The most memory held at once, in bytes (`limits.maxRestBytesInFlight`). */
  get limit(): number {
    return this.#limit;
  }

  /** The most memory one peer address holds at once, in bytes (`limits.maxRestBytesInFlightPerPeer`). */
  get perPeer(): number {
    return this.#perPeer;
  }

  /** The memory held now, in bytes. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The memory `peer` (a `peerKey`) holds now, in bytes. */
  bytesOf(peer: string): number {
    return this.#peers.get(peer) ?? 0;
  }

  /**
   * Counts `bytes` more for `peer` (a `peerKey`; undefined when the socket has no address, then only the total
   * counts) when they fit within both limits; otherwise counts nothing and returns the limit they would pass.
   */
  take(bytes: number, peer: string | undefined): RestBodiesLimit | undefined {
    if (this.#bytes + bytes > this.#limit) return 'maxRestBytesInFlight';
    if (peer !== undefined) {
      const held = this.bytesOf(peer);
      if (held + bytes > this.#perPeer) return 'maxRestBytesInFlightPerPeer';
      this.#peers.set(peer, held + bytes);
    }
    this.#bytes += bytes;
    return undefined;
  }

  /** Gives back bytes a request of `peer` no longer holds. */
  give(bytes: number, peer: string | undefined): void {
    this.#bytes = Math.max(0, this.#bytes - bytes);
    if (peer === undefined) return;
    const left = this.bytesOf(peer) - bytes;
    if (left > 0) this.#peers.set(peer, left);
    else this.#peers.delete(peer);
  }
}

const shared = new WeakMap<object, RestBodies>();

/**
 * The REST body tally of the server `owner` stands for (its stream context): one per server, made on first use with
 * `limit` (`limits.maxRestBytesInFlight`) and `perPeer` (`limits.maxRestBytesInFlightPerPeer`).
 */
export function restBodiesOf(owner: object, limit: number, perPeer: number): RestBodies {
  let bodies = shared.get(owner);
  if (bodies === undefined) {
    bodies = new RestBodies(limit, perPeer);
    shared.set(owner, bodies);
  }
  return bodies;
}
