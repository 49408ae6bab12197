// What a stream keeps of its node (finding Q11, rule L2): the decoded node of a stream's first request (up to
// `limits.maxNodeBytes` on the wire, and more once decoded) stays with the stream for its whole life, for the cache's
// watches, hooks, authorization and CSDS. A node opens one stream per xDS type, or many (an Envoy with a stream per
// type, a gRPC client per channel, a fleet sharing one node id), and each held its own copy: 100 streams of a node
// with 512 KiB of metadata held 62 MB. Streams whose nodes have the same bytes now share one decoded node, kept while
// any of them is open. A node is shared only when the SHA-256 digests of the bytes agree and the decoded nodes are
// equal (rule L5: a node is never taken for another). The shared node is read-only: nothing in the server writes to
// a stream's node, and hooks must not either.
import { createHash } from 'node:crypto';
import { equals } from '@bufbuild/protobuf';
import { type Node, NodeSchema } from '@xds/api';

interface Shared {
  readonly node: Node;
  readonly key: string;
  /** Its bytes on the wire. */
  readonly bytes: number;
  /** Streams holding it. */
  refs: number;
}

/** The decoded nodes held by a server's streams, one per distinct node bytes. */
export class SharedNodes {
  readonly #byKey = new Map<string, Shared>();
  readonly #byNode = new Map<Node, Shared>();

  /**
   * The node a stream keeps for a node of `body` (its bytes on the wire) decoded as `decoded`: the one already held
   * for the same bytes, else `decoded`, now held. The stream gives it back with {@link release}.
   */
  take(body: Uint8Array, decoded: Node): Node {
    const key = `${body.length}:${createHash('sha256').update(body).digest('base64')}`;
    const found = this.#byKey.get(key);
    if (found !== undefined && equals(NodeSchema, found.node, decoded)) {
      found.refs++;
      return found.node;
    }
    // A digest collision (never seen) keeps its node unshared.
    if (found !== undefined) return decoded;
    const shared: Shared = { node: decoded, key, bytes: body.length, refs: 1 };
    this.#byKey.set(key, shared);
    this.#byNode.set(decoded, shared);
    return decoded;
  }

  /** True when `node` is held here (a stream that holds it took it with {@link take}). */
  holds(node: Node): boolean {
    return this.#byNode.has(node);
  }

  /** The bytes on the wire of a node held here (0 for another). */
  bytesOf(node: Node): number {
    return this.#byNode.get(node)?.bytes ?? 0;
  }

  /** A stream that took `node` ended; the last one lets it go. A node not held here is ignored. */
  release(node: Node): void {
    const shared = this.#byNode.get(node);
    if (shared === undefined || --shared.refs > 0) return;
    this.#byNode.delete(node);
    this.#byKey.delete(shared.key);
  }

  /** Distinct nodes held. */
  get size(): number {
    return this.#byNode.size;
  }
}
