// Hooks that can act, not only observe (go-control-plane's stream callbacks, whose errors end the stream): an
// application sees a stream open, every request (SotW, delta, Fetch and REST) and every response, and may refuse
// by throwing. A hook may be async; it is bounded by `limits.hookTimeoutMs` (rule L2), and a hook that throws,
// rejects or times out ends only its own stream or call (rule L4), with the status of its XdsError or INTERNAL, and
// is logged. While a hook is pending the stream's later requests wait in order (at most
// `limits.maxQueuedRequests`); other streams go on.
import type { DeltaDiscoveryRequest, DiscoveryRequest, Node } from '@xds/api';
import { Code, XdsError } from '@xds/api';
import type { ServerCall, StreamContext } from './stream-context.js';

/** Where a hook runs: a SotW or delta stream (ADS or per type), a gRPC Fetch call, or a REST request. */
export type HookKind = 'sotw' | 'delta' | 'fetch' | 'rest';

/** What a hook knows of the stream or call it runs for. */
export interface HookContext {
  /** The stream's id (for Fetch and REST, the call's), as in the server's events. */
  readonly streamId: number;
  readonly kind: HookKind;
  /** True on ADS. */
  readonly ads: boolean;
  /** The gRPC method path, or `POST /v3/discovery:…` for REST. */
  readonly method: string;
  /** The peer address, as grpc-js reports it (the remote address for REST). */
  readonly peer: string;
  /** The node, once the first request named it (read-only: streams of the same node bytes share it); undefined in `onStreamOpen`. */
  readonly node: Node | undefined;
  /** The node id; empty in `onStreamOpen`. */
  readonly nodeId: string;
  /** The gRPC call (its metadata, its TLS identity); undefined for REST. */
  readonly call: ServerCall | undefined;
  /** Aborted when the stream or call ends (a hook that waits on I/O can give up). */
  readonly signal: AbortSignal;
}

/** A response as `onResponse` sees it, after it was written. */
export interface HookResponse {
  readonly typeUrl: string;
  /** `version_info` (SotW, Fetch, REST) or `system_version_info` (delta). */
  readonly version: string;
  /** The response's nonce (empty for Fetch and REST). */
  readonly nonce: string;
  /** The names of the resources in the response. */
  readonly resources: readonly string[];
  /** Delta `removed_resources`; empty otherwise. */
  readonly removed: readonly string[];
  /** The encoded size (for REST, of the JSON body). */
  readonly bytes: number;
}

/** What a hook returns: nothing (go on), or a promise of nothing. Throw or reject to end the stream or call. */
export type HookResult = void | Promise<void>;

/**
 * Hooks of {@link XdsServer} (option `hooks`). Each may be async and is bounded by `limits.hookTimeoutMs`. To refuse,
 * throw (or reject with) an `XdsError`: the stream or call ends with its code and message; any other error, or a
 * timeout, ends it with INTERNAL. Either way only that stream or call ends, and the failure is logged.
 */
export interface XdsServerHooks {
  /**
   * A stream opened (its headers arrived), before its first request is handled; requests wait for it, in order.
   * Not called for Fetch or REST.
   */
  onStreamOpen?(ctx: HookContext): HookResult;
  /**
   * A request arrived (every request of SotW, delta, Fetch and REST, ACKs and stale ones included), after the node
   * was admitted (rules S2, L6) and the request was found valid, before it changes anything. Requests of a stream
   * are handed to it one at a time, in order.
   */
  onRequest?(request: DiscoveryRequest | DeltaDiscoveryRequest, ctx: HookContext): HookResult;
  /**
   * A response was written (streams) or is about to be sent (Fetch, REST). A stream takes its next response only
   * once this settled; on Fetch and REST a failure replaces the response with its status.
   */
  onResponse?(response: HookResponse, ctx: HookContext): HookResult;
}

/** The names of the hooks, for messages and logs. */
export type HookName = keyof XdsServerHooks;

/**
 * Calls a hook: undefined when it finished synchronously, else a promise that settles when it does, or rejects
 * with INTERNAL naming `limits.hookTimeoutMs` when it does not settle in time (counted as a limit reached). A
 * synchronous throw propagates.
 */
export function callHook(
  ctx: StreamContext,
  name: HookName,
  invoke: () => HookResult,
): Promise<void> | undefined {
  const result = invoke();
  if (result === undefined || typeof (result as Promise<void>)?.then !== 'function') return undefined;
  const timeoutMs = ctx.limits.hookTimeoutMs;
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      ctx.limitReached('hookTimeoutMs');
      reject(
        new XdsError(
          Code.Internal,
          `the ${name} hook did not settle within limits.hookTimeoutMs (${timeoutMs} ms)`,
        ),
      );
    }, timeoutMs);
    result.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * The error a stream or call ends with when a hook failed: its XdsError as it is (the hook chose the status),
 * anything else INTERNAL naming the hook (the error itself is logged with `context`, not sent).
 */
export function hookFailure(
  ctx: StreamContext,
  name: HookName,
  error: unknown,
  context: Record<string, unknown>,
): XdsError {
  if (error instanceof XdsError) return error;
  ctx.logger.error({ ...context, err: error }, `the ${name} hook failed`);
  return new XdsError(Code.Internal, `the ${name} hook failed`, { cause: error });
}
