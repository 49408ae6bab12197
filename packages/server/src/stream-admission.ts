// What a discovery stream checks before a request reaches its type's watch: the server is not closing, the request
// decoded, the first request names a node (rule S2) within the node limits (rule L2), the node is authorized (rule
// L6) and has room under `limits.maxStreamsPerNode` (counted per node id and peer unless the node id is verified:
// stream-registry.ts, finding Q10), later requests keep that node (S2) and ask for a type the service serves (S1,
// S15), and the application's hooks (`onStreamOpen`, `onRequest`) let it through. Requests are handled one at a time
// and in order: while authorization or a hook runs, the requests that follow wait for it, at most
// `limits.maxQueuedRequests` of them and `limits.maxQueuedRequestBytes` of their bytes, within the server's
// `limits.maxQueuedRequestBytesTotal` (rule L2). A step that settles synchronously costs no promise. Before any of
// that, a request still arriving reserves its announced length from the server's partial-request budget
// (partial-requests.ts, rule L2).
import { status } from '@grpc/grpc-js';
import { Code, type Node, XdsError } from '@xds/api';
import { authorizationFailure } from './authorization.js';
import { UndecodableRequest } from './codec.js';
import { callHook, type HookContext, type HookName, hookFailure } from './hooks.js';
import { nodeIdVerified } from './identity.js';
import { limitPartialRequests } from './partial-requests.js';
import { estimateRequestBytes, type QueuedBytesTally, queuedBytesTally } from './queued-bytes.js';
import { releaseReadBuffers } from './read-buffers.js';
import type { ServerCall, StreamContext } from './stream-context.js';
import type { RegisteredStream } from './stream-registry.js';
import type { ServedMethod } from './type-service.js';

/** The fields SotW and delta requests share. */
export interface AnyRequest {
  readonly node?: Node | undefined;
  readonly typeUrl: string;
  readonly responseNonce: string;
}

/** What admission needs of its stream. */
export interface AdmissionHost<Req> extends RegisteredStream {
  readonly ended: boolean;
  /** What hooks see of the stream. */
  readonly hookContext: HookContext;
  /** The first request named this node, within the limits: the stream belongs to it from now on. */
  identify(node: Node): void;
  /** The first request was accepted: the stream is open. */
  opened(): void;
  /** Rules S1, S15: the type a request is about; throws an XdsError for a type the service cannot serve. */
  typeOf(request: Req): string;
  /** Handles an accepted request. */
  process(request: Req, typeUrl: string): void;
  /** Ends the stream with the status of an error. */
  fail(error: unknown): void;
  end(code: number, reason: string): void;
}

/** A step of a request's way in: done (undefined), or a promise to wait for. */
type Step = Promise<void> | undefined;

/** Admits a stream's requests in order (rules S1, S2, S15, L2, L6) and hands them to the stream. */
export class StreamAdmission<Req extends AnyRequest> {
  readonly #ctx: StreamContext;
  readonly #host: AdmissionHost<Req>;
  readonly #method: ServedMethod;
  readonly #call: ServerCall;
  /** Requests that arrived while a step was pending, in order. */
  readonly #queue: Req[] = [];
  /** The estimated bytes of each queued request, in the same order. */
  readonly #queueBytes: number[] = [];
  /** Their sum, counted in the server's tally too. */
  #queuedBytes = 0;
  readonly #tally: QueuedBytesTally;
  /** True while a step (authorization, a hook) is pending: requests queue. */
  #waiting = false;
  #authorized = false;

  constructor(ctx: StreamContext, host: AdmissionHost<Req>, method: ServedMethod, call: ServerCall) {
    this.#ctx = ctx;
    this.#host = host;
    this.#method = method;
    this.#call = call;
    this.#tally = queuedBytesTally(ctx.registry);
    // An idle stream keeps nothing of its last request's socket reads (bench scenario 4).
    releaseReadBuffers(call);
    // Rule L2: its unfinished requests reserve from the server's budget. The interceptor of the server `listen`
    // makes did it as grpc-js made the call; this covers an application's own grpc-js server (`addTo`).
    limitPartialRequests((call as { readonly call?: unknown }).call, ctx.partialRequests);
  }

  /** The stream ended: drops its queued requests and gives their bytes back to the server's tally. */
  close(): void {
    this.#clearQueue();
  }

  /** The stream's headers arrived: runs `onStreamOpen`, if any; requests wait for it. */
  open(): void {
    const hook = this.#ctx.hooks.onStreamOpen;
    if (hook === undefined) return;
    const context = this.#host.hookContext;
    this.#wait(
      'onStreamOpen',
      () => callHook(this.#ctx, 'onStreamOpen', () => hook(context)),
      () => {},
    );
  }

  /** One request from the call, in arrival order. */
  receive(request: Req | UndecodableRequest): void {
    const host = this.#host;
    if (host.ended) return;
    if (this.#ctx.closing) {
      host.end(status.UNAVAILABLE, 'server is closing');
      return;
    }
    if (request instanceof UndecodableRequest) {
      if (request.limit !== undefined) this.#ctx.limitReached(request.limit);
      host.fail(new XdsError(request.code, request.message));
      return;
    }
    if (this.#waiting) {
      const max = this.#ctx.limits.maxQueuedRequests;
      if (this.#queue.length >= max) {
        this.#ctx.limitReached('maxQueuedRequests');
        host.fail(
          new XdsError(
            Code.ResourceExhausted,
            `more than limits.maxQueuedRequests (${max}) requests arrived while an earlier one was pending`,
          ),
        );
        return;
      }
      const bytes = this.#queueable(request);
      if (bytes === undefined) return;
      this.#queue.push(request);
      this.#queueBytes.push(bytes);
      this.#queuedBytes += bytes;
      this.#tally.add(bytes);
      return;
    }
    this.#admit(request);
  }

  /**
   * Rule L2: the request's estimated bytes when it fits in the stream's and the server's queued-bytes limits; else
   * ends the stream with RESOURCE_EXHAUSTED naming the limit and returns undefined.
   */
  #queueable(request: Req): number | undefined {
    const limits = this.#ctx.limits;
    const perStream = limits.maxQueuedRequestBytes;
    const total = limits.maxQueuedRequestBytesTotal;
    const bytes = estimateRequestBytes(request, Math.min(perStream, total) + 1);
    let refusal: XdsError | undefined;
    if (this.#queuedBytes + bytes > perStream) {
      this.#ctx.limitReached('maxQueuedRequestBytes');
      refusal = new XdsError(
        Code.ResourceExhausted,
        `requests queued while an earlier one was pending passed limits.maxQueuedRequestBytes (${perStream} bytes): ${this.#queuedBytes} queued, ${bytes} more arrived`,
      );
    } else if (this.#tally.bytes + bytes > total) {
      this.#ctx.limitReached('maxQueuedRequestBytesTotal');
      refusal = new XdsError(
        Code.ResourceExhausted,
        `requests queued on the server's streams passed limits.maxQueuedRequestBytesTotal (${total} bytes); this stream's next request (${bytes} bytes) does not fit`,
      );
    }
    if (refusal === undefined) return bytes;
    this.#clearQueue();
    this.#host.fail(refusal);
    return undefined;
  }

  /** Empties the queue and gives its bytes back to the server's tally. */
  #clearQueue(): void {
    this.#queue.length = 0;
    this.#queueBytes.length = 0;
    this.#tally.release(this.#queuedBytes);
    this.#queuedBytes = 0;
  }

  /** The oldest queued request, its bytes given back. */
  #dequeue(): Req {
    const bytes = this.#queueBytes.shift() ?? 0;
    this.#queuedBytes -= bytes;
    this.#tally.release(bytes);
    return this.#queue.shift()!;
  }

  /** Takes a request as far as it goes now: to the stream, or to a pending step (then it resumes from there). */
  #admit(request: Req): void {
    if (!this.#authorized) {
      this.#first(request);
      return;
    }
    let typeUrl: string;
    try {
      const id = request.node?.id;
      const host = this.#host;
      if (id !== undefined && id !== '' && id !== host.nodeId) {
        throw new XdsError(
          Code.InvalidArgument,
          `node.id changed on the stream from "${host.nodeId}" to "${id}"`,
        );
      }
      typeUrl = host.typeOf(request);
    } catch (error) {
      this.#host.fail(error);
      return;
    }
    const hook = this.#ctx.hooks.onRequest;
    if (hook === undefined) {
      this.#process(request, typeUrl);
      return;
    }
    const context = this.#host.hookContext;
    this.#wait(
      'onRequest',
      () => callHook(this.#ctx, 'onRequest', () => hook(request as never, context)),
      () => this.#process(request, typeUrl),
    );
  }

  #process(request: Req, typeUrl: string): void {
    try {
      this.#host.process(request, typeUrl);
    } catch (error) {
      this.#host.fail(error);
    }
  }

  /**
   * Runs a step: when it settles synchronously, goes on at once; when it returns a promise, later requests queue
   * until it settles, then `next` runs and the queue drains. A failure ends the stream (as `hook` says).
   */
  #wait(hook: HookName | 'authorize', step: () => Step, next: () => void): void {
    const host = this.#host;
    let pending: Step;
    try {
      pending = step();
    } catch (error) {
      host.fail(this.#failure(hook, error));
      return;
    }
    if (pending === undefined) {
      next();
      return;
    }
    this.#waiting = true;
    pending.then(
      () => {
        this.#waiting = false;
        if (host.ended) {
          this.#clearQueue();
          return;
        }
        next();
        this.#drain();
      },
      (error: unknown) => {
        this.#waiting = false;
        this.#clearQueue();
        if (!host.ended) host.fail(this.#failure(hook, error));
      },
    );
  }

  /** Handles the requests that queued while a step was pending, until one waits again. */
  #drain(): void {
    while (!this.#waiting && !this.#host.ended && this.#queue.length > 0) this.#admit(this.#dequeue());
    if (this.#host.ended) this.#clearQueue();
  }

  #failure(hook: HookName | 'authorize', error: unknown): XdsError {
    const host = this.#host;
    const context = { streamId: host.id, nodeId: host.nodeId };
    // Rule L6: a failing authorize refuses the node; a failing hook is INTERNAL (an XdsError keeps its code).
    if (hook === 'authorize')
      return authorizationFailure(
        this.#ctx.logger,
        error,
        'authorize',
        `node "${host.nodeId}" may not open ${this.#method.path}`,
        context,
      );
    return hookFailure(this.#ctx, hook, error, context);
  }

  /** The first request: node rules (S2), then authorization, then the request itself. */
  #first(request: Req): void {
    const host = this.#host;
    const node = request.node;
    if (node === undefined || node.id === '') {
      host.fail(new XdsError(Code.InvalidArgument, 'the first request of a stream must carry node.id'));
      return;
    }
    // Rule L2: a node id within its limit.
    const registry = this.#ctx.registry;
    const refused = registry.claimNode(host, node.id);
    if (refused !== undefined) {
      host.fail(refused);
      return;
    }
    host.identify(node);
    const authorize = this.#ctx.authorize;
    const admitted = () => {
      // Rule L2: within the node's stream limit, counted once authorization said who may claim the node (Q10).
      const full = registry.countNode(host, nodeIdVerified(this.#call, node.id));
      if (full !== undefined) {
        host.fail(full);
        return;
      }
      this.#authorized = true;
      host.opened();
      this.#admit(request);
    };
    if (authorize === undefined) {
      admitted();
      return;
    }
    this.#wait('authorize', () => this.#authorize(authorize(node, this.#call)), admitted);
  }

  /** A verdict of false refuses the node (PERMISSION_DENIED); a promise waits for the verdict. */
  #authorize(verdict: boolean | Promise<boolean>): Step {
    const refuse = (ok: boolean) => {
      if (ok !== true)
        throw new XdsError(
          Code.PermissionDenied,
          `node "${this.#host.nodeId}" may not open ${this.#method.path}`,
        );
    };
    if (typeof verdict === 'boolean') {
      refuse(verdict);
      return undefined;
    }
    return verdict.then(refuse);
  }
}
