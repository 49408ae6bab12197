// Which type a discovery stream's request is about (rule S1), and the types of an ADS stream the server does not
// serve (rule S15: each is answered as a type with no resources, at most `limits.maxUnknownTypesPerStream` of them
// per stream, rule L2). Split from discovery-stream.ts, which asks this file for a request's type and a type's
// source of resources.
import { Code, type TypeUrl, XdsError } from '@xds/api';
import type { ConfigWatcher } from '@xds/cache';
import type { StreamContext } from './stream-context.js';
import type { ServedMethod } from './type-service.js';
import { maxUnknownTypeUrlLength, plausibleTypeUrl, unknownTypes } from './unknown-type.js';

/** The types of one stream: its method's fixed type, if any, and the unknown types it subscribed to. */
export class StreamTypes {
  readonly #ctx: StreamContext;
  readonly #method: ServedMethod;
  /** Types of this stream the server does not know (rule S15), served empty. */
  #unknown: Set<string> | undefined;

  constructor(ctx: StreamContext, method: ServedMethod) {
    this.#ctx = ctx;
    this.#method = method;
  }

  /** Rule S1: which type a request is about; throws INVALID_ARGUMENT for a type the method cannot serve. */
  typeOf(typeUrl: string): string {
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
    // Rule S15: on ADS, a type the server does not serve is a subscription to nothing, if it looks like a type URL.
    if (!this.#ctx.servesType(typeUrl) && !plausibleTypeUrl(typeUrl))
      throw new XdsError(
        Code.InvalidArgument,
        `type_url ${JSON.stringify(typeUrl.slice(0, 128))} is not a type URL (host/package.Type, at most ${maxUnknownTypeUrlLength} characters)`,
      );
    return typeUrl;
  }

  /**
   * Rule S15: an ADS subscription to a type the server does not know is served as a type with no resources. The
   * first such type is logged (once per stream), each is counted, and a stream holds at most
   * `limits.maxUnknownTypesPerStream` of them (rule L2: RESOURCE_EXHAUSTED naming it).
   */
  addUnknown(typeUrl: string, stream: { readonly id: number; readonly nodeId: string }): void {
    this.#unknown ??= new Set();
    const unknown = this.#unknown;
    const max = this.#ctx.limits.maxUnknownTypesPerStream;
    if (unknown.size >= max) {
      this.#ctx.limitReached('maxUnknownTypesPerStream');
      throw new XdsError(
        Code.ResourceExhausted,
        `type_url ${typeUrl} would be the stream's type number ${max + 1} that this server does not serve, over limits.maxUnknownTypesPerStream (${max})`,
      );
    }
    if (unknown.size === 0)
      this.#ctx.logger.warn(
        { streamId: stream.id, nodeId: stream.nodeId, typeUrl },
        'xDS stream subscribed to a type this server does not serve; it is answered as a type with no resources (rule S15)',
      );
    unknown.add(typeUrl);
    this.#ctx.registry.unknownType();
  }

  /** True for a type of this stream the server does not know (rule S15). */
  isUnknown(typeUrl: string): boolean {
    return this.#unknown?.has(typeUrl) === true;
  }

  /** Where the watch of a type comes from: the cache, or, for a type the server does not know, nowhere (S15). */
  watcher(typeUrl: TypeUrl): ConfigWatcher {
    return this.isUnknown(typeUrl) ? unknownTypes : this.#ctx.cache;
  }
}
