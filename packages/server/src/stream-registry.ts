// Every xDS stream the server holds, from its headers to its end, and the limits that apply across streams (rule
// L2): a stream that sent headers and nothing else is "pending" and must send its first request within
// `limits.firstRequestTimeoutMs`; one HTTP/2 connection may hold `limits.maxStreamsPerConnection` streams, one peer
// address `limits.maxPendingStreamsPerPeer` pending ones (review R6), and one node `limits.maxStreamsPerNode`. Pending streams show in the counts, so that a client holding thousands of
// header-only streams is visible, bounded and cut, not silently held. Streams ended by a limit are counted by limit.
// The per-node count is keyed by what the server knows of the node (finding Q10): a node id any client may claim
// counts per peer address as well (an IPv4 address, an IPv6 /64), so that a client that claims another's node id
// uses up its own share, not the node's; a node id bound to the stream's verified certificate (identity.ts) counts
// alone, across peers.
// The names streams hold subscribed are charged here too (subscription-budget.ts), per connection and peer address,
// and a stream's whole charge is given back when it leaves, whichever way it ended.
import { Code, type Node, XdsError } from '@xds/api';
import { cutForDisplay } from './display-cut.js';
import type { Limits, ResolvedLimits } from './limits.js';
import { SharedNodes } from './shared-nodes.js';
import type { StreamHandle } from './stream-context.js';
import { peerOf, SubscriptionBudget, type SubscriptionStats } from './subscription-budget.js';

/** A stream as the registry sees it. */
export interface RegisteredStream extends StreamHandle {
  /** Its first request did not come within the limit: end it (DEADLINE_EXCEEDED). */
  firstRequestTimedOut(timeoutMs: number): void;
}

interface Entry {
  /** The connection's key (the peer address), or undefined when it has none. */
  readonly connection: string | undefined;
  /** The peer address (without its port), or undefined when it has none. */
  readonly peer: string | undefined;
  /** Bytes of subscribed names charged to the stream now (subscription-budget.ts). */
  subscriptionBytes: number;
  /** Names (and globs) subscribed on the stream now. */
  subscribedNames: number;
  /** When the stream opened (ms since the epoch). */
  readonly at: number;
  /** The node its first request carried, as shared-nodes.ts holds it, once charged to its peer (Q11). */
  heldNode?: Node;
  /** Its bytes on the wire, charged to the peer while the node is kept. */
  heldBytes?: number;
  /** The node id its first request named. */
  node: string | undefined;
  /** The key of the per-node count it counts against (node id, and peer unless verified), once counted. */
  nodeKey?: string;
  pending: boolean;
}

/** What {@link StreamRegistry.stats} reports. */
export interface StreamCounts {
  /** Streams past their first request (authorized). */
  readonly open: number;
  /** Streams opened that have not had their first request accepted yet. */
  readonly pending: number;
  /** Streams ended because they went past a limit, by the limit's name in `XdsServerOptions.limits`. */
  readonly endedByLimit: Readonly<Partial<Record<keyof Limits, number>>>;
  /** Subscriptions to types the server does not serve, answered as types with no resources (rule S15), since start. */
  readonly unknownTypes: number;
  /** The names the streams hold subscribed, against their limits (rule L2). */
  readonly subscriptions: SubscriptionStats;
}

/** The peer address grpc-js reports identifies a TCP connection (`ip:port`); anything else is not a key. */
function connectionKey(peer: string): string | undefined {
  return /:\d+$/.test(peer) ? peer : undefined;
}

export class StreamRegistry {
  /** Streams past their first request, for clients(), CSDS and close(). */
  readonly open = new Set<StreamHandle>();
  /** The decoded nodes the streams hold, one per distinct node bytes (finding Q11). */
  readonly nodes = new SharedNodes();
  /** Open streams by node id, so that a per-node lookup and the node count cost nothing per stream or name. */
  readonly #openByNode = new Map<string, Set<StreamHandle>>();
  readonly #limits: ResolvedLimits;
  readonly #entries = new Map<RegisteredStream, Entry>();
  /** Pending streams in the order they opened, which is the order of their deadlines. */
  readonly #pending = new Set<RegisteredStream>();
  readonly #perConnection = new Map<string, number>();
  /** Bytes of the distinct nodes each peer address's streams keep, and how many of its streams keep each (Q11). */
  readonly #peerNodes = new Map<string, { bytes: number; readonly held: Map<Node, number> }>();
  /** Pending streams per peer address (`limits.maxPendingStreamsPerPeer`, review R6). */
  readonly #pendingPerPeer = new Map<string, number>();
  /** Streams per node, keyed as {@link countNode} says. */
  readonly #perNode = new Map<string, number>();
  readonly #endedByLimit = new Map<keyof Limits, number>();
  #unknownTypes = 0;
  readonly #subscriptions: SubscriptionBudget;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(limits: ResolvedLimits) {
    this.#limits = limits;
    this.#subscriptions = new SubscriptionBudget(limits);
  }

  /**
   * A stream's headers arrived (from `peer`): it is pending until its first request is accepted. Refuses it with
   * RESOURCE_EXHAUSTED when its connection already holds `limits.maxStreamsPerConnection` streams, or its peer
   * address `limits.maxPendingStreamsPerPeer` pending ones.
   */
  arrive(stream: RegisteredStream, peer: string): XdsError | undefined {
    const connection = connectionKey(peer);
    const address = peerOf(peer);
    const count = connection === undefined ? 0 : (this.#perConnection.get(connection) ?? 0);
    const max = this.#limits.maxStreamsPerConnection;
    if (count >= max) {
      this.limitReached('maxStreamsPerConnection');
      return new XdsError(
        Code.ResourceExhausted,
        `this connection already has limits.maxStreamsPerConnection (${max}) xDS streams open`,
      );
    }
    const pending = address === undefined ? 0 : (this.#pendingPerPeer.get(address) ?? 0);
    const maxPending = this.#limits.maxPendingStreamsPerPeer;
    if (pending >= maxPending) {
      this.limitReached('maxPendingStreamsPerPeer');
      return new XdsError(
        Code.ResourceExhausted,
        `peer ${address} already has limits.maxPendingStreamsPerPeer (${maxPending}) xDS streams waiting for their first request`,
      );
    }
    if (connection !== undefined) this.#perConnection.set(connection, count + 1);
    if (address !== undefined) this.#pendingPerPeer.set(address, pending + 1);
    this.#entries.set(stream, {
      connection,
      peer: address,
      at: Date.now(),
      node: undefined,
      pending: true,
      subscriptionBytes: 0,
      subscribedNames: 0,
    });
    this.#pending.add(stream);
    this.#arm();
    return undefined;
  }

  /**
   * The stream's first request names `nodeId`: refuses a node id longer than `limits.maxNodeIdBytes`
   * (INVALID_ARGUMENT). The node's stream count is checked once the stream is authorized ({@link countNode}).
   */
  claimNode(stream: RegisteredStream, nodeId: string): XdsError | undefined {
    const entry = this.#entries.get(stream);
    if (entry === undefined || entry.node !== undefined) return undefined;
    const bytes = Buffer.byteLength(nodeId, 'utf8');
    if (bytes > this.#limits.maxNodeIdBytes) {
      this.limitReached('maxNodeIdBytes');
      return new XdsError(
        Code.InvalidArgument,
        `node.id is ${bytes} bytes, over limits.maxNodeIdBytes (${this.#limits.maxNodeIdBytes})`,
      );
    }
    entry.node = nodeId;
    return undefined;
  }

  /**
   * The stream of the node {@link claimNode} named was authorized: refuses it (RESOURCE_EXHAUSTED) when the node
   * already has `limits.maxStreamsPerNode` streams, counted by node id alone when `verified` (the node id is bound to
   * the call's verified certificate), else by node id and peer address (finding Q10: a claimant of another's node id
   * cannot lock that node out).
   */
  countNode(stream: RegisteredStream, verified: boolean): XdsError | undefined {
    const entry = this.#entries.get(stream);
    if (entry?.node === undefined || entry.nodeKey !== undefined) return undefined;
    const nodeId = entry.node;
    // Unambiguous (rule L5): a node id cannot pass for a node id and a peer.
    const key = JSON.stringify(verified ? [nodeId] : [nodeId, entry.peer ?? null]);
    const count = this.#perNode.get(key) ?? 0;
    const max = this.#limits.maxStreamsPerNode;
    if (count >= max) {
      this.limitReached('maxStreamsPerNode');
      const from = verified || entry.peer === undefined ? '' : ` from peer ${entry.peer}`;
      return new XdsError(
        Code.ResourceExhausted,
        `node "${cutForDisplay(nodeId, 256)}" already has limits.maxStreamsPerNode (${max}) xDS streams open${from}`,
      );
    }
    this.#perNode.set(key, count + 1);
    entry.nodeKey = key;
    return undefined;
  }

  /**
   * The stream keeps `node` (shared-nodes.ts), of `bytes` on the wire: charges it to the stream's peer address, once
   * per distinct node however many of the peer's streams keep it. Returns the refusal (RESOURCE_EXHAUSTED) when the
   * peer's nodes would pass `limits.maxNodeBytesPerPeer`, charging nothing; the caller counts the limit.
   */
  holdNode(stream: RegisteredStream, node: Node, bytes: number): XdsError | undefined {
    const entry = this.#entries.get(stream);
    if (entry === undefined || entry.peer === undefined || entry.heldNode !== undefined) return undefined;
    let account = this.#peerNodes.get(entry.peer);
    const refs = account?.held.get(node) ?? 0;
    if (refs === 0) {
      const max = this.#limits.maxNodeBytesPerPeer;
      const held = account?.bytes ?? 0;
      if (held + bytes > max)
        return new XdsError(
          Code.ResourceExhausted,
          `the nodes of peer ${entry.peer}'s streams would hold ${held + bytes} bytes with this stream's (${bytes}), more than limits.maxNodeBytesPerPeer (${max})`,
        );
      if (account === undefined) {
        account = { bytes: 0, held: new Map() };
        this.#peerNodes.set(entry.peer, account);
      }
      account.bytes += bytes;
    }
    account!.held.set(node, refs + 1);
    entry.heldNode = node;
    entry.heldBytes = bytes;
    return undefined;
  }

  /** Gives back a stream's charge for its node (see {@link holdNode}). */
  #releaseNode(entry: Entry): void {
    const node = entry.heldNode;
    const account = entry.peer === undefined ? undefined : this.#peerNodes.get(entry.peer);
    if (node === undefined || account === undefined) return;
    const refs = (account.held.get(node) ?? 1) - 1;
    if (refs > 0) {
      account.held.set(node, refs);
      return;
    }
    account.held.delete(node);
    account.bytes -= entry.heldBytes ?? 0;
    if (account.held.size === 0) this.#peerNodes.delete(entry.peer!);
  }

  /** The stream's first request was accepted: it is open. */
  admit(stream: RegisteredStream): void {
    const entry = this.#entries.get(stream);
    if (entry === undefined || !entry.pending) return;
    entry.pending = false;
    if (entry.peer !== undefined) decrement(this.#pendingPerPeer, entry.peer);
    this.#pending.delete(stream);
    this.open.add(stream);
    if (entry.node === undefined) return;
    let streams = this.#openByNode.get(entry.node);
    if (streams === undefined) {
      streams = new Set();
      this.#openByNode.set(entry.node, streams);
    }
    streams.add(stream);
  }

  /** The open streams of one node id (empty when it has none). */
  openOf(nodeId: string): ReadonlySet<StreamHandle> {
    return this.#openByNode.get(nodeId) ?? noStreams;
  }

  /** How many distinct node ids have an open stream. */
  get openNodeCount(): number {
    return this.#openByNode.size;
  }

  /**
   * The stream's subscribed names change by `bytes` (their charge, see subscription-budget.ts `nameCost`) and
   * `names`: returns the RESOURCE_EXHAUSTED error naming the limit that a growth would pass (and charges nothing),
   * counting the stream as ended by it; `what` names the subscription in the error. A stream that is not
   * registered (it ended) is not charged.
   */
  resubscribe(stream: RegisteredStream, bytes: number, names: number, what: string): XdsError | undefined {
    const entry = this.#entries.get(stream);
    if (entry === undefined) return undefined;
    const refused = this.#subscriptions.change(entry, bytes, names, what);
    if (refused !== undefined) {
      this.limitReached(refused.limit);
      return refused.error;
    }
    entry.subscriptionBytes += bytes;
    entry.subscribedNames += names;
    return undefined;
  }

  /** The stream ended: it counts no more, and its subscribed names are given back. Idempotent. */
  leave(stream: RegisteredStream): void {
    const entry = this.#entries.get(stream);
    if (entry === undefined) return;
    this.#entries.delete(stream);
    if (entry.pending && entry.peer !== undefined) decrement(this.#pendingPerPeer, entry.peer);
    this.#releaseNode(entry);
    if (entry.subscriptionBytes !== 0 || entry.subscribedNames !== 0)
      this.#subscriptions.change(entry, -entry.subscriptionBytes, -entry.subscribedNames, '');
    this.#pending.delete(stream);
    this.open.delete(stream);
    if (entry.node !== undefined) {
      const streams = this.#openByNode.get(entry.node);
      if (streams?.delete(stream) === true && streams.size === 0) this.#openByNode.delete(entry.node);
    }
    if (entry.connection !== undefined) decrement(this.#perConnection, entry.connection);
    if (entry.nodeKey !== undefined) decrement(this.#perNode, entry.nodeKey);
  }

  /** A stream was ended because it went past `limit`. */
  limitReached(limit: keyof Limits): void {
    this.#endedByLimit.set(limit, (this.#endedByLimit.get(limit) ?? 0) + 1);
  }

  /** A stream subscribed to a type the server does not serve (rule S15). */
  unknownType(): void {
    this.#unknownTypes++;
  }

  /** Pending streams, oldest first (a copy: ending them changes the registry). */
  pendingStreams(): RegisteredStream[] {
    return [...this.#pending];
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  stats(): StreamCounts {
    return {
      open: this.open.size,
      pending: this.#pending.size,
      endedByLimit: Object.fromEntries(this.#endedByLimit) as StreamCounts['endedByLimit'],
      unknownTypes: this.#unknownTypes,
      subscriptions: this.#subscriptions.stats(),
    };
  }

  /** Stops the deadline timer for good (the server closed). */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** One timer for every pending stream: it fires at the oldest one's deadline. */
  #arm(): void {
    if (this.#timer !== undefined || this.#closed) return;
    const oldest = this.#pending.values().next().value;
    if (oldest === undefined) return;
    const due = this.#entries.get(oldest)!.at + this.#limits.firstRequestTimeoutMs;
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, due - Date.now()));
    this.#timer.unref();
  }

  #expire(): void {
    this.#timer = undefined;
    const timeout = this.#limits.firstRequestTimeoutMs;
    const cutoff = Date.now() - timeout;
    for (const stream of this.#pending) {
      if (this.#entries.get(stream)!.at > cutoff) break;
      // Ending it makes it leave; a stream that does not is dropped here all the same.
      stream.firstRequestTimedOut(timeout);
      this.leave(stream);
    }
    this.#arm();
  }
}

const noStreams: ReadonlySet<StreamHandle> = new Set();

function decrement(counts: Map<string, number>, key: string): void {
  const count = (counts.get(key) ?? 1) - 1;
  if (count <= 0) counts.delete(key);
  else counts.set(key, count);
}
