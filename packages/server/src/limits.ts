import { Code, XdsError } from '@xds/api';
import { defaultStreamLimits, type StreamLimits } from './stream-limits.js';

/**
 * Limits on what a client controls (rule L2 of the protocol notes): every size, count and time that a request, a
 * stream or a connection can make the server keep or spend is bounded here by configuration, not by the client.
 * Going past a limit ends that stream (or call) with RESOURCE_EXHAUSTED or INVALID_ARGUMENT naming the limit; what is
 * only kept for display (NACK messages, node ids in logs and status) is cut to its limit and says so.
 *
 * One type holds them all (the limits across streams come from stream-limits.ts) so that `docs/security.md`, the
 * reference server's flags and the tests agree on the names and defaults.
 */

/** The limits of an {@link XdsServer}; each field has a default (see {@link defaultLimits}). */
export interface Limits extends StreamLimits {
  /**
   * Resource names in one request (SotW `resource_names`, delta subscribe + unsubscribe, Fetch, REST), and in a
   * delta stream's subscription of one type; default 100,000. More ends the stream or call with RESOURCE_EXHAUSTED.
   */
  readonly maxNamesPerRequest?: number;
  /**
   * Bytes of one request message (a gRPC message of an xDS, Fetch or CSDS call, and a REST body); default 16 MiB,
   * and never more than `XdsServerOptions.maxMessageBytes`. grpc-js reads a message's length first and ends the
   * call with RESOURCE_EXHAUSTED ("Received message larger than max") as soon as it is over, before holding its
   * bytes, so a stream that never finishes its message pins at most this much. 16 MiB holds the largest legitimate
   * request under the other limits with room: a delta reconnect of `maxNamesPerRequest` (100,000) names of 60 bytes,
   * subscribed and with their versions in `initial_resource_versions`, is about 15 MB; a SotW request of 100,000
   * such names, 6.4 MB; a node id, `maxErrorDetailBytes` of NACK message and a node's metadata, kilobytes.
   */
  readonly maxRequestBytes?: number;
  /**
   * Bytes of the request messages partly received on all of the server's calls at once: from the read that leaves a
   * gRPC message unfinished to its last byte, or to its call's end by any path, the message counts the bytes it has
   * received plus a look-ahead (as much again, at most 1 MiB, plus 16 KiB; never more than the length its header
   * announced: a header costs nothing to send, so a reservation of the announced length let 12 KB hold the budget);
   * default 256 MiB. Messages announced over 64 KiB may hold three quarters of it (192 MiB: twelve
   * `maxRequestBytes` messages at once); the last quarter is kept for smaller ones (an Envoy's ACK or first request),
   * so that big unfinished messages cannot lock them out. A message that arrives in one read never counts. One that
   * does not fit ends its stream or call with RESOURCE_EXHAUSTED naming this limit. Without it, 64 streams announcing
   * 16 MiB each held 1 GiB, and more streams more.
   */
  readonly maxPartialRequestBytesTotal?: number;
  /**
   * Bytes of the request messages partly received on one HTTP/2 connection at once (counted as for
   * `maxPartialRequestBytesTotal`); default 32 MiB, two `maxRequestBytes` messages, so that one connection's streams
   * cannot hold the server's whole budget. Keep it at least `maxRequestBytes`, or larger requests are refused. A
   * message that does not fit ends its stream or call with RESOURCE_EXHAUSTED naming this limit.
   */
  readonly maxPartialRequestBytesPerConnection?: number;
  /**
   * Bytes of the request messages partly received from one peer address (an IPv4 address, or an IPv6 /64, as for
   * `maxConnectionsPerPeer`) at once, across its connections, small messages included (counted as for
   * `maxPartialRequestBytesTotal`); default 64 MiB, four `maxRequestBytes` messages and a third of the share big
   * messages may hold. Without it, one peer's 120 connections of 100 streams, each sending a header and nothing more
   * (16 KiB reserved each), held that whole share for `partialRequestTimeoutMs` at a time and refused every other
   * peer's requests over 64 KiB; now it takes three addresses. Keep it at least `maxRequestBytes` (or larger requests
   * are refused), and with a `maxRequestBytes` message within three quarters of `maxPartialRequestBytesTotal` (or one
   * peer can refuse another's big request). A fleet behind one NAT or egress address shares it: raise it for them. A
   * message that does not fit ends its stream or call with RESOURCE_EXHAUSTED naming this limit and the peer.
   */
  readonly maxPartialRequestBytesPerPeer?: number;
  /**
   * How long one request message may stay partly received, from the read that brings its first bytes to its last
   * byte (ms); default 30 s (a `maxRequestBytes` message of 16 MiB at a modest 1 MiB/s takes 16 s). Past it the
   * stream or call ends with DEADLINE_EXCEEDED naming this limit, and the message's bytes and reservation are given
   * back: without it, unfinished messages held `maxPartialRequestBytesTotal` for as long as their connections stayed.
   */
  readonly partialRequestTimeoutMs?: number;
  /** Glob (`prefix/*`) names in one request or delta subscription; default 1,000. More is RESOURCE_EXHAUSTED. */
  readonly maxGlobsPerRequest?: number;
  /**
   * Bytes of one resource name; default 16 KiB. Longer names end the stream with INVALID_ARGUMENT (so do names
   * holding a C0 control character or DEL, whatever this limit: rule L5).
   */
  readonly maxNameBytes?: number;
  /** Bytes of a node id; default 4 KiB. A longer node id ends the stream with INVALID_ARGUMENT. */
  readonly maxNodeIdBytes?: number;
  /**
   * Bytes of the `node` of one request (xDS, Fetch or CSDS; every occurrence of the field counted), checked on the
   * wire before any of it is decoded; default 1 MiB. More ends the stream or call with RESOURCE_EXHAUSTED. A stream
   * decodes the node of its first request only; an Envoy sends its node again in every request unless told
   * otherwise, and a later request's node is skipped (its id read), its bytes still counted. Real nodes:
   * an Envoy's lists every extension it was built with (some 500 `extensions`, about 100 KB), an Istio sidecar's
   * metadata holds dozens of ISTIO_META keys and its pod's labels and annotations (some KB to tens of KB), a
   * gRPC client's a few hundred bytes.
   */
  readonly maxNodeBytes?: number;
  /**
   * Entries of one repeated field or map across a request's node (`client_features`, `extensions`,
   * `listening_addresses`, `dynamic_parameters`, a Struct's fields and a ListValue's values at every level of its
   * metadata counted together, ...), counted on the wire (of a stream's first request, and of Fetch, CSDS and
   * REST requests: a later request's node is not decoded); default 10,000 (an Envoy lists some 500 extensions).
   * More ends the stream or call with RESOURCE_EXHAUSTED naming the field.
   */
  readonly maxNodeListEntries?: number;
  /**
   * Levels of Struct and ListValue values in a node (its `metadata`, and the metadata of its build versions: a
   * flat Struct is 1), counted on the wire; default 16 (Istio's metadata nests 4 or 5). Deeper ends the stream or
   * call with INVALID_ARGUMENT.
   */
  readonly maxNodeMetadataDepth?: number;
  /**
   * Dynamic parameters of one request's resource locators (`resource_locators`, `resource_locators_subscribe` and
   * `_unsubscribe`: every locator's `dynamic_parameters` counted together), counted on the wire before any is
   * decoded; default 10,000. More ends the stream or call with RESOURCE_EXHAUSTED naming the field.
   */
  readonly maxLocatorParameters?: number;
  /** Bytes of a NACK's `error_detail.message` kept per stream and type for status, events and logs; default 4 KiB. */
  readonly maxErrorDetailBytes?: number;
  /**
   * How long a stream may leave a written response unflushed (the client does not read) before it is ended with
   * RESOURCE_EXHAUSTED (ms); default 30 s. A stream holds at most one unflushed response (rule S12), which stops
   * counting against the write budget once the budget sees it stalled, so it delays no one. The same holds for the
   * answer of a unary call (Fetch, CSDS) and of a CSDS stream: past it unread, the call is reset.
   */
  readonly drainTimeoutMs?: number;
  /**
   * Bytes of one regex in a request (CSDS node matchers' `safe_regex`); default 1 KiB. Regexes run in RE2 (rule
   * L3); a longer one fails the request with INVALID_ARGUMENT.
   */
  readonly maxRegexBytes?: number;
  /**
   * Instructions a request's regex may compile to, bounded from its text before it is compiled (rule L3: a
   * repetition count multiplies, so an 808-byte regex compiled to 802,002 instructions in 803 ms and 103 MB);
   * default 200 (Envoy refuses its own regexes past 100; `node-[0-9]+\..*` is about 20, `[a-z]{100}` about 110).
   * re2js builds a regex's automaton on its first match at a cost of about the square of this: one of 1,800 took
   * 240-290 ms. More fails the request with INVALID_ARGUMENT.
   */
  readonly maxRegexProgramSize?: number;
  /**
   * Node matchers in one CSDS request, counted on the wire before any is decoded; default 100. More fail the
   * request with INVALID_ARGUMENT.
   */
  readonly maxStatusMatchers?: number;
  /**
   * Bytes of one CSDS node matcher (its node id matcher and metadata matchers), checked on the wire before it is
   * decoded; default 16 KiB (room for an exact node id of `maxNodeIdBytes` and a regex of `maxRegexBytes`). More
   * fails the request with INVALID_ARGUMENT.
   */
  readonly maxStatusMatcherBytes?: number;
  // Matchers of one request, by their work (probe findings Q1, Q7; review R11): matcher-budget.ts.
  /**
   * ValueMatchers (an `or_match`'s branches and a `list_match`'s item each one) and StringMatchers compiled for one
   * CSDS request, all its node matchers together; default 1,000 (an operator's matchers are a handful). Counted on
   * the wire first, before anything is decoded: the entries of each repeated field (an `or_match`'s branches,
   * `node_metadatas`, path keys) across the request, more ending the call with RESOURCE_EXHAUSTED; then as they are
   * compiled, more failing it with INVALID_ARGUMENT; both name this limit, before any matcher runs. Without it 16 KiB
   * compiled to 1,480 `list_match`es, and 100 such matchers against a node with a 9,000-value list took 12 s.
   */
  readonly maxStatusMatcherNodes?: number;
  /**
   * Instructions all the regexes of one CSDS request may compile to together (each bounded as for
   * `maxRegexProgramSize`); default 1,000. More fails the request with INVALID_ARGUMENT naming this limit, before
   * the regex past it is compiled: 100 regexes of 1,800 instructions each cost 6 s to build.
   */
  readonly maxStatusRegexProgramTotal?: number;
  /**
   * Steps of matching one CSDS request may take, across every node it is matched against: one per ValueMatcher run
   * on a value (a `list_match`'s item once per element of the list) and per metadata path key walked, and one per
   * 64 characters a string matcher reads (16 for a regex); default 1,000,000 (some 10-50 ms of CPU: a matcher of an
   * exact node id and two metadata keys against 100,000 streams takes some 300,000). Past it the call ends with
   * RESOURCE_EXHAUSTED naming this limit (ask with fewer or narrower matchers).
   */
  readonly maxStatusMatchSteps?: number;
  /**
   * Per-resource entries (`GenericXdsConfig`s) in one CSDS answer, across every node it matches; default 100,000
   * (each costs some microseconds to build). Counted while the answer is built, which stops at the first entry
   * past it: the call ends with RESOURCE_EXHAUSTED naming this limit (ask for fewer nodes with node matchers).
   */
  readonly maxStatusConfigs?: number;
  /**
   * Bytes of one CSDS answer, counted while it is built (each entry is encoded as it is made); default 16 MiB, and
   * never more than `XdsServerOptions.maxMessageBytes`. Past it the call ends with RESOURCE_EXHAUSTED naming this
   * limit (ask for fewer nodes, or set `exclude_resource_contents`).
   */
  readonly maxStatusBytes?: number;
  /**
   * Subscribed names with no resource in the cache listed in a CSDS answer per stream and type; default 100. The
   * others are counted in one entry that says how many there are: a client may subscribe to 100,000 names that do
   * not exist (`maxNamesPerRequest`), each of which would otherwise cost an entry in every answer.
   */
  readonly maxStatusUnknownNames?: number;
  /**
   * CSDS answers built at once, server-wide; default 2. Each is built in slices of a few milliseconds that give
   * way to the other clients; more calls wait their turn (at most 100 wait; past that, RESOURCE_EXHAUSTED naming
   * this limit).
   */
  readonly maxConcurrentStatusCalls?: number;
  /**
   * CSDS calls of one caller in flight at once, from arrival until the answer is flushed (being authorized,
   * waiting for a turn, being built or sent; a caller that does not read keeps its calls in flight until
   * `drainTimeoutMs` resets them; a caller is its verified client certificate's identity under mutual TLS, else its peer address:
   * an IPv4 address, or an IPv6 /64); default 4. One more is refused with RESOURCE_EXHAUSTED naming this limit and
   * the caller: without it one caller could keep all `maxConcurrentStatusCalls` turns and the 100 places in the
   * queue, and every operator's call waited behind its calls or was refused. Callers behind one address (CSDS served to loopback peers only) share it.
   */
  readonly maxStatusCallsPerCaller?: number;
  /**
   * How long an async hook (`hooks.onStreamOpen`, `onRequest`, `onResponse`) may take (ms); default 10 s. Then its
   * stream or call ends with INTERNAL naming this limit; other streams never wait for it. It bounds an async
   * `authorize` or `authorizeStatus` verdict too: one that has not settled ends its call with UNAVAILABLE naming
   * this limit (the client retries).
   */
  readonly hookTimeoutMs?: number;
  /**
   * Requests a stream may send while an earlier one waits for authorization or a hook; default 100. They are handled
   * in order once it settles; more end the stream with RESOURCE_EXHAUSTED.
   */
  readonly maxQueuedRequests?: number;
  /**
   * Bytes of the requests queued on one stream while an earlier one waits for authorization or a hook (estimated
   * from their strings, bytes and fields, close to their wire size); default 16 MiB. The request that would pass it
   * ends the stream with RESOURCE_EXHAUSTED naming this limit.
   */
  readonly maxQueuedRequestBytes?: number;
  /**
   * Bytes of the requests queued on all of the server's streams at once (see `maxQueuedRequestBytes`); default
   * 256 MiB. The request that would pass it ends its own stream with RESOURCE_EXHAUSTED naming this limit; streams
   * with nothing queued are not touched.
   */
  readonly maxQueuedRequestBytesTotal?: number;
  /**
   * Memory of the REST request bodies (`listenRest`, `restHandler`) the server holds at once, from the first byte
   * read to the answer, counted as 3 times each body's bytes (what it holds while decoded); default 128 MiB (each
   * body is bounded by `maxRequestBytes` too). A body that does not fit is read on and dropped, and answered 503 with
   * `Retry-After: 1` naming this limit; one that could not fit even alone, 413; the other requests go on.
   */
  readonly maxRestBytesInFlight?: number;
  /**
   * The part of `maxRestBytesInFlight` the REST bodies of one peer address (an IPv4 address, or an IPv6 /64) may
   * hold at once, counted the same way (3 times their bytes); default 48 MiB (three eighths of the total), so that
   * one body of `maxRequestBytes` (16 MiB) fits. Without it, three slow uploads from one address held the whole budget and every other client's
   * REST request got 503 (probe7 N6). Past it that peer's request is answered 503 with `Retry-After: 1` naming this
   * limit and the peer, and a body that could not fit in it even alone, 413; other peers go on. A fleet behind one
   * NAT or egress address shares one share: raise it for them.
   */
  readonly maxRestBytesInFlightPerPeer?: number;
  /**
   * Types an ADS stream may subscribe to that the server does not serve (rule S15: each is answered as a type with
   * no resources); default 20. One more ends the stream with RESOURCE_EXHAUSTED.
   */
  readonly maxUnknownTypesPerStream?: number;
  /**
   * TCP connections the xDS listener holds at once, TLS handshakes under way included; default 50,000 (each is a
   * file descriptor and some 30 KiB), or, unset, the process's open-file limit less 1,024 when that is lower. One more is closed as it is accepted, before any TLS or HTTP/2 work, counted
   * in `connectionStats().refused.maxConnections` and logged (at most once per 10 s) with its peer: the process
   * and the clients it holds go on, instead of every client failing once the process runs out of descriptors.
   */
  readonly maxConnections?: number;
  /**
   * TCP connections from one peer address (an IPv4 address, or an IPv6 /64) at once; default 1,024, or a quarter of
   * `maxConnections` when that is smaller, so that one address cannot take every slot and stall every new client
   * (probe finding P5). A fleet behind one NAT or egress address, or a relay tier, shares one address: raise it for
   * them (each Envoy holds one connection for ADS). Past it a connection is closed as it is accepted, like one past
   * `maxConnections`.
   */
  readonly maxConnectionsPerPeer?: number;
  /**
   * How long a connection to the xDS listener may take to open its first stream (TLS handshake, HTTP/2 preface,
   * SETTINGS and first HEADERS); default 15,000 ms. A connection that has not opened one by then is closed and
   * counted in `connectionStats().refused.connectionSetupTimeoutMs`, so idle sockets cannot hold connection slots
   * (probe finding P5). Once a stream has opened, HTTP/2 keepalive decides the connection's liveness.
   */
  readonly connectionSetupTimeoutMs?: number;
  /**
   * How long a connection may stay open with no stream open, once it has opened one (gRPC's MAX_CONNECTION_IDLE);
   * default 300,000 ms (5 min). Then it is closed (GOAWAY NO_ERROR) and counted in
   * `connectionStats().refused.maxConnectionIdleMs`. An xDS client holds its stream open for as long as it wants
   * config, so only a client that is done, or one that holds a slot for nothing, idles (probe finding Q2: one stream
   * to any path, then nothing, held a slot for ever, since keepalive never ends a peer that answers pings). And when
   * `maxConnections` is reached, a new connection takes the slot of the connection idle the longest instead of
   * being refused (`connectionStats().evicted`).
   */
  readonly maxConnectionIdleMs?: number;

  // Subscribed names across types, streams, connections and peers (probe5 P2): see subscription-budget.ts.
  /**
   * Names (and globs) one stream may hold subscribed, over all of its types (`*` not counted); default 200,000: an
   * Envoy's 100,000 EDS names and as many of other types. Without it, each type of an ADS stream (and each of its
   * `maxUnknownTypesPerStream` unknown types) could hold `maxNamesPerRequest`. More ends the stream with
   * RESOURCE_EXHAUSTED naming this limit.
   */
  readonly maxNamesPerStream?: number;
  /**
   * Names (and globs) one stream may subscribe to of a type the server does not serve (rule S15: it will never have
   * a resource of it); default 1,000. More ends the stream with RESOURCE_EXHAUSTED naming this limit.
   */
  readonly maxNamesPerUnknownType?: number;
  /**
   * Heap the names subscribed on all of the server's streams may hold, estimated per name as 2 × its bytes + 40
   * (measured: a name of 60 bytes held 155); default 2,000,000,000 (2 GB), room for 10,000 clients of 1,000 names of
   * 80 bytes (Istio's EDS names are about 50), each stream counted even when streams share one set of names. A
   * subscription change that would pass it ends its stream with RESOURCE_EXHAUSTED naming this limit; the other
   * streams are not touched. Size it to the process's memory.
   */
  readonly maxSubscriptionBytesTotal?: number;
  /**
   * The part of `maxSubscriptionBytesTotal` the streams of one HTTP/2 connection may hold; default 128 MiB: an
   * Envoy's 100,000 EDS names of 200 bytes (44 MB) twice over, or a relay's 50 groups of 10,000 names of 100 bytes
   * on one upstream connection (120 MB). Past it, as for the total.
   */
  readonly maxSubscriptionBytesPerConnection?: number;
  /**
   * The part of `maxSubscriptionBytesTotal` the streams of one peer address (an IPv6 /64) may hold over all of its
   * connections; default 512 MiB (a quarter of the total): room for `maxConnectionsPerPeer` (1,024) Envoys of 2,000
   * names of 100 bytes (490 MB). A fleet behind one NAT or egress address, or a relay tier, shares one address:
   * raise it for them, with `maxConnectionsPerPeer`. Past it, as for the total.
   */
  readonly maxSubscriptionBytesPerPeer?: number;
}

/** {@link Limits} with every default filled in. */
export type ResolvedLimits = { readonly [K in keyof Limits]-?: number };

/** The defaults of {@link Limits}. */
export const defaultLimits: ResolvedLimits = Object.freeze({
  maxNamesPerRequest: 100_000,
  maxRequestBytes: 16 * 1024 * 1024,
  maxPartialRequestBytesTotal: 256 * 1024 * 1024,
  maxPartialRequestBytesPerConnection: 32 * 1024 * 1024,
  maxPartialRequestBytesPerPeer: 64 * 1024 * 1024,
  partialRequestTimeoutMs: 30_000,
  maxGlobsPerRequest: 1_000,
  maxNameBytes: 16 * 1024,
  maxNodeIdBytes: 4 * 1024,
  maxNodeBytes: 1024 * 1024,
  maxNodeListEntries: 10_000,
  maxNodeMetadataDepth: 16,
  maxLocatorParameters: 10_000,
  maxErrorDetailBytes: 4 * 1024,
  ...defaultStreamLimits,
  drainTimeoutMs: 30_000,
  maxRegexBytes: 1024,
  maxRegexProgramSize: 200,
  maxStatusMatchers: 100,
  maxStatusMatcherBytes: 16 * 1024,
  maxStatusMatcherNodes: 1_000,
  maxStatusRegexProgramTotal: 1_000,
  maxStatusMatchSteps: 1_000_000,
  maxStatusConfigs: 100_000,
  maxStatusBytes: 16 * 1024 * 1024,
  maxStatusUnknownNames: 100,
  maxConcurrentStatusCalls: 2,
  maxStatusCallsPerCaller: 4,
  hookTimeoutMs: 10_000,
  maxQueuedRequests: 100,
  maxQueuedRequestBytes: 16 * 1024 * 1024,
  maxQueuedRequestBytesTotal: 256 * 1024 * 1024,
  maxRestBytesInFlight: 128 * 1024 * 1024,
  maxRestBytesInFlightPerPeer: 48 * 1024 * 1024,
  maxUnknownTypesPerStream: 20,
  maxConnections: 50_000,
  maxConnectionsPerPeer: 1_024,
  connectionSetupTimeoutMs: 15_000,
  maxConnectionIdleMs: 300_000,
  // Subscribed names (probe5 P2).
  maxNamesPerStream: 200_000,
  maxNamesPerUnknownType: 1_000,
  maxSubscriptionBytesTotal: 2_000_000_000,
  maxSubscriptionBytesPerConnection: 128 * 1024 * 1024,
  maxSubscriptionBytesPerPeer: 512 * 1024 * 1024,
});

/** The longest time a `…Ms` limit may give: Node's timers fire after 1 ms past it. */
export const maxTimerMs = 2_147_483_647;

/**
 * Fills in the defaults and refuses a limit that is not a positive integer, or a `…Ms` limit past
 * {@link maxTimerMs}, naming it.
 */
export function resolveLimits(limits: Limits | undefined): ResolvedLimits {
  const resolved: Record<string, number> = { ...defaultLimits };
  for (const [key, value] of Object.entries(limits ?? {})) {
    if (!(key in defaultLimits))
      throw new XdsError(
        Code.InvalidArgument,
        `limits.${key} is not a limit (known: ${Object.keys(defaultLimits).join(', ')})`,
      );
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
      throw new XdsError(
        Code.InvalidArgument,
        `limits.${key} must be a positive integer, got ${String(value)}`,
      );
    }
    // Node turns a timer past 2^31-1 ms into 1 ms: a bound meant as "never" would then fire at once (review R8).
    if (key.endsWith('Ms') && value > maxTimerMs)
      throw new XdsError(
        Code.InvalidArgument,
        `limits.${key} must be at most ${maxTimerMs} ms (about 24.8 days, the longest timer Node keeps), got ${value}`,
      );
    resolved[key] = value;
  }
  return Object.freeze(resolved) as ResolvedLimits;
}
