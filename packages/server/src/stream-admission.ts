// What a discovery stream checks before a request reaches its type's watch: the server is not closing, the request
// decoded, the first request names a node (rule S2) within the node limits (rule L2) and the node is authorized
// (rule L6), later requests keep that node (S2) and ask for a type the service serves (S1). Requests are handled
// one at a time and in order: while authorization runs, the requests that follow wait for it.
import { status } from '@grpc/grpc-js';
import { Code, type DiscoveryMethod, isTypeUrl, type Node, type TypeUrl, XdsError } from '@xds/api';
import { authorizationFailure } from './authorization.js';
import { UndecodableRequest } from './codec.js';
import type { ServerCall, StreamContext } from './stream-context.js';
import type { RegisteredStream } from './stream-registry.js';

/** The fields SotW and delta requests share. */
export interface AnyRequest {
  readonly node?: Node | undefined;
  readonly typeUrl: string;
  readonly responseNonce: string;
}

/** What admission needs of its stream. */
export interface AdmissionHost<Req> extends RegisteredStream {
  readonly ended: boolean;
  /** The first request named this node, within the limits: the stream belongs to it from now on. */
  identify(node: Node): void;
  /** The first request was accepted: the stream is open. */
  opened(): void;
  /** Handles an accepted request of a type the service serves. */
  process(request: Req, typeUrl: TypeUrl): void;
  /** Ends the stream with the status of an error. */
  fail(error: unknown): void;
  end(code: number, reason: string): void;
}

/** Admits a stream's requests in order (rules S1, S2, L2, L6) and hands them to the stream. */
export class StreamAdmission<Req extends AnyRequest> {
  readonly #ctx: StreamContext;
  readonly #host: AdmissionHost<Req>;
  readonly #method: DiscoveryMethod;
  readonly #call: ServerCall;
  /** undefined: not waiting; a list: requests held while authorization runs. */
  #held: Req[] | undefined;
  #authorized = false;

  constructor(ctx: StreamContext, host: AdmissionHost<Req>, method: DiscoveryMethod, call: ServerCall) {
    this.#ctx = ctx;
    this.#host = host;
    this.#method = method;
    this.#call = call;
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
      host.fail(new XdsError(Code.InvalidArgument, request.message));
      return;
    }
    if (this.#held !== undefined) {
      this.#held.push(request);
      return;
    }
    if (!this.#authorized) {
      this.#first(request);
      return;
    }
    this.#process(request);
  }

  /** The first request: node rules (S2), then authorization, then the request itself. */
  #first(request: Req): void {
    const host = this.#host;
    const node = request.node;
    if (node === undefined || node.id === '') {
      host.fail(new XdsError(Code.InvalidArgument, 'the first request of a stream must carry node.id'));
      return;
    }
    // Rule L2: a node id within its limit, and within the node's stream limit.
    const refused = this.#ctx.registry.claimNode(host, node.id);
    if (refused !== undefined) {
      host.fail(refused);
      return;
    }
    host.identify(node);
    const authorize = this.#ctx.authorize;
    if (authorize === undefined) {
      this.#admit([request]);
      return;
    }
    let verdict: boolean | Promise<boolean>;
    try {
      verdict = authorize(node, this.#call);
    } catch (error) {
      host.fail(this.#authorizeFailed(error));
      return;
    }
    if (typeof verdict === 'boolean') {
      this.#decide(verdict, [request]);
      return;
    }
    this.#held = [request];
    verdict.then(
      (ok) => this.#decide(ok, this.#held ?? []),
      (error: unknown) => {
        this.#held = undefined;
        host.fail(this.#authorizeFailed(error));
      },
    );
  }

  /** Rule L6: a hook's XdsError keeps its code; any other error refuses the node (PERMISSION_DENIED). */
  #authorizeFailed(error: unknown): XdsError {
    const host = this.#host;
    return authorizationFailure(
      this.#ctx.logger,
      error,
      'authorize',
      `node "${host.nodeId}" may not open ${this.#method.path}`,
      { streamId: host.id, nodeId: host.nodeId },
    );
  }

  #decide(ok: boolean, requests: Req[]): void {
    this.#held = undefined;
    const host = this.#host;
    if (host.ended) return;
    if (!ok) {
      host.fail(
        new XdsError(Code.PermissionDenied, `node "${host.nodeId}" may not open ${this.#method.path}`),
      );
      return;
    }
    this.#admit(requests);
  }

  #admit(requests: Req[]): void {
    this.#authorized = true;
    this.#host.opened();
    for (const request of requests) {
      if (this.#host.ended) return;
      this.#process(request);
    }
  }

  #process(request: Req): void {
    const host = this.#host;
    try {
      const id = request.node?.id;
      if (id !== undefined && id !== '' && id !== host.nodeId) {
        throw new XdsError(
          Code.InvalidArgument,
          `node.id changed on the stream from "${host.nodeId}" to "${id}"`,
        );
      }
      host.process(request, this.#typeOf(request.typeUrl));
    } catch (error) {
      host.fail(error);
    }
  }

  /** Rule S1: which type a request is about. */
  #typeOf(typeUrl: string): TypeUrl {
    const fixed = this.#method.typeUrl;
    if (fixed !== undefined) {
      if (typeUrl === '' || typeUrl === fixed) return fixed;
      throw new XdsError(
        Code.InvalidArgument,
        `type_url ${typeUrl} cannot be requested on ${this.#method.path}`,
      );
    }
    if (typeUrl === '')
      throw new XdsError(Code.InvalidArgument, 'type_url is required on an aggregated (ADS) stream');
    if (!isTypeUrl(typeUrl))
      throw new XdsError(Code.InvalidArgument, `type_url ${typeUrl} is not a type this server serves`);
    return typeUrl;
  }
}
