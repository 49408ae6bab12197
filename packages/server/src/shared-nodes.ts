// What a stream keeps of its node (finding Q11, rule L2): the decoded node of a stream's first request (up to
// `limits.maxNodeBytes` on the wire, and more once decoded) stays with the stream for its whole life, for the cache's
// watches, hooks, authorization and CSDS. A node opens one stream per xDS type, or many (an Envoy with a stream per
// type, a gRPC client per channel, a fleet sharing one node id), and each held its own copy: 100 streams of a node
// with 512 KiB of metadata held 62 MB. Streams whose nodes have the same bytes now share one decoded node, kept while
// any of them is open. A node is shared only when the SHA-256 digests of the bytes agree and the decoded nodes are
// equal (rule L5: a node is never taken for another). The shared node is read-only: nothing in the server writes to
// a stream's node, and hooks must not either.
import { createHash } from 'node:crypto';
import { equals, toBinary } from '@bufbuild/protobuf';
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
    if (found !== undefined && sameNode(found.node, decoded)) {
      found.refs++;
      return found.node;
    }
    const held: Shared = { node: decoded, key, bytes: body.length, refs: 1 };
    // A digest collision (never seen) keeps its node apart, but held and counted like any other (probe7 N1: a node
    // that could not be shared was held by no account, so maxNodeBytesPerPeer did not see it).
    if (found === undefined) this.#byKey.set(key, held);
    this.#byNode.set(decoded, held);
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
    if (this.#byKey.get(shared.key) === shared) this.#byKey.delete(shared.key);
  }

  /** Distinct nodes held. */
  get size(): number {
    return this.#byNode.size;
  }
}

/**
 * True when two decoded nodes are the same node. protobuf-es `equals` compares doubles as numbers, so a node with a
 * NaN in its metadata is not equal to itself (probe7 N1: such nodes were never shared); their encodings are.
 */
function sameNode(a: Node, b: Node): boolean {
  if (equals(NodeSchema, a, b)) return true;
  return Buffer.from(toBinary(NodeSchema, a)).equals(toBinary(NodeSchema, b));
}
