/**
 * The bounds on CSDS answers being built (rule L2): server-wide, at most `limits.maxConcurrentStatusCalls` are built
 * at once, each in slices that give way to other work; more calls wait in order, and past `maxWaiting` waiting calls
 * one more is refused with RESOURCE_EXHAUSTED naming the limit. Per caller, at most
 * `limits.maxStatusCallsPerCaller` calls are in flight at once (from arrival: being authorized, waiting, built, and
 * sent until the answer is flushed or the call ends): without it one caller could keep the whole queue full (100
 * calls) so that every operator's call waited behind its calls, or was refused, and hold as many `authorizeStatus`
 * verdicts open; and a caller that never reads could have answer after answer queued for it (probe Q5). A caller is its verified
 * client certificate's identity under mutual TLS, else its peer address (connection-gate.ts's key: 127.0.0.2 and
 * 127.0.0.3 are two callers).
 */
import { Code, XdsError } from '@xds/api';
import { peerKey } from './connection-gate.js';
import { describeIdentity, peerIdentityOf } from './identity.js';
import type { ServerCall } from './stream-context.js';

/** Calls that may wait for a turn, beyond those running. */
export const maxWaitingStatusCalls = 100;

/** A waiting call whose caller left (review R9). */
const leftQueue = () => new XdsError(Code.Cancelled, 'the call ended while it waited for its turn');

/** The limits that refuse a CSDS call before its answer is built. */
export type StatusGateLimit = 'maxConcurrentStatusCalls' | 'maxStatusCallsPerCaller';

/**
 * A call the gate refused: RESOURCE_EXHAUSTED naming `limit`. A caller may loop refused calls cheaply, so the
 * server logs these at most once per limit per 10 s (csds-service.ts), not once per call.
 */
export class StatusGateRefusal extends XdsError {
  /** The limit that refused the call. */
  readonly limit: StatusGateLimit;

  constructor(limit: StatusGateLimit, message: string) {
    super(Code.ResourceExhausted, message);
    this.limit = limit;
  }
}

/** The address of a grpc-js peer (`1.2.3.4:5`, `::1:5`, `[::1]:5`), without its port, as connection-gate.ts keys it. */
export function peerAddressOf(peer: string): string {
  const at = peer.lastIndexOf(':');
  const host = at > 0 && /^\d+$/.test(peer.slice(at + 1)) ? peer.slice(0, at) : peer;
  return peerKey(host.replace(/^\[|\]$/g, '')) ?? 'unknown';
}

/**
 * Who a CSDS call is, for its share of the gate: `identity <SPIFFE ID or DNS names>` when the call has a verified
 * client certificate whose names were read, else `peer <address>` (`peer unknown` for a peer grpc-js cannot name).
 */
export function statusCallerOf(call: ServerCall): string {
  const identity = peerIdentityOf(call);
  if (
    identity !== undefined &&
    identity.unreadable === undefined &&
    (identity.spiffe !== undefined || identity.dnsNames.length > 0 || identity.uris.length > 0)
  )
    return `identity ${describeIdentity(identity)}`;
  return `peer ${peerAddressOf(call.getPeer())}`;
}

/** The limits of a {@link StatusGate}. */
export interface StatusGateLimits {
  /** `limits.maxConcurrentStatusCalls`: answers built at once. */
  readonly max: number;
  /** `limits.maxStatusCallsPerCaller`: one caller's calls running or waiting at once. */
  readonly maxPerCaller: number;
  /** Calls that may wait for a turn; default {@link maxWaitingStatusCalls}. */
  readonly maxWaiting?: number;
}

/** One server's CSDS turns: who runs, who waits, and each caller's count. */
export class StatusGate {
  readonly #max: number;
  readonly #maxPerCaller: number;
  readonly #maxWaiting: number;
  /** Calls waiting for a turn, in arrival order. */
  readonly #waiting = new Set<() => void>();
  readonly #callers = new Map<string, number>();
  #running = 0;

  constructor(limits: StatusGateLimits) {
    this.#max = limits.max;
    this.#maxPerCaller = limits.maxPerCaller;
    this.#maxWaiting = limits.maxWaiting ?? maxWaitingStatusCalls;
  }

  /**
   * Counts a call of `caller` from its arrival (authorization, waiting, building and sending included) until the
   * returned function is called; throws RESOURCE_EXHAUSTED naming `limits.maxStatusCallsPerCaller` and the caller (after
   * calling `refused`) when the caller has that many in flight already.
   */
  admit(caller: string, refused?: (limit: StatusGateLimit) => void): () => void {
    const ofCaller = this.#callers.get(caller) ?? 0;
    if (ofCaller >= this.#maxPerCaller) {
      refused?.('maxStatusCallsPerCaller');
      throw new StatusGateRefusal(
        'maxStatusCallsPerCaller',
        `${caller} has ${ofCaller} CSDS calls in flight, limits.maxStatusCallsPerCaller (${this.#maxPerCaller}): wait for their answers before asking again`,
      );
    }
    this.#callers.set(caller, ofCaller + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (this.#callers.get(caller) ?? 1) - 1;
      if (left > 0) this.#callers.set(caller, left);
      else this.#callers.delete(caller);
    };
  }

  /**
   * Runs `work` when a turn is free; rejects with RESOURCE_EXHAUSTED naming `limits.maxConcurrentStatusCalls`
   * (after calling `refused` with it) when too many calls wait already. A call whose `signal` aborts while it waits
   * leaves the queue at once (review R9) and rejects with CANCELLED: a caller that cancels its calls cannot keep
   * places in the queue, nor turns that nobody would use.
   */
  async run<T>(
    work: () => Promise<T>,
    refused?: (limit: StatusGateLimit) => void,
    signal?: AbortSignal,
  ): Promise<T> {
    if (signal?.aborted === true) throw leftQueue();
    if (this.#running >= this.#max) {
      if (this.#waiting.size >= this.#maxWaiting) {
        refused?.('maxConcurrentStatusCalls');
        throw new StatusGateRefusal(
          'maxConcurrentStatusCalls',
          `limits.maxConcurrentStatusCalls (${this.#max}) CSDS answers are being built and ${this.#maxWaiting} more wait: try again later`,
        );
      }
      // The turn is handed over by the call that finishes (running stays the same).
      await new Promise<void>((resolve, reject) => {
        const go = () => {
          signal?.removeEventListener('abort', left);
          resolve();
        };
        const left = () => {
          this.#waiting.delete(go);
          reject(leftQueue());
        };
        signal?.addEventListener('abort', left, { once: true });
        this.#waiting.add(go);
      });
    } else {
      this.#running++;
    }
    try {
      return await work();
    } finally {
      const next = this.#waiting.values().next().value;
      if (next === undefined) this.#running--;
      else {
        this.#waiting.delete(next);
        next();
      }
    }
  }

  /** Answers being built now, calls waiting for a turn, and the callers with calls in flight. */
  get stats(): { readonly running: number; readonly waiting: number; readonly callers: number } {
    return { running: this.#running, waiting: this.#waiting.size, callers: this.#callers.size };
  }
}
