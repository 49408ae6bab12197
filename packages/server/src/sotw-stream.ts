import type { Cluster, DiscoveryRequest, TypeUrl } from '@xds/api';
import { TypeUrl as T } from '@xds/api';
import {
  type EncodedResource,
  edsServiceName,
  type SotwRequestInfo,
  type SotwResponse,
  type SotwWatch,
} from '@xds/cache';
import { encodeSotwParts } from './codec.js';
import { DiscoveryStream } from './discovery-stream.js';
import { SotwRequestEvent } from './events.js';
import { keptNames } from './lazy-names.js';
import type { ResolvedLimits } from './limits.js';
import { checkSotwRequest, sotwSubscriptionSize } from './request-limits.js';
import { keptVersion, type TypeState } from './type-state.js';

/** The EDS service name of an encoded Cluster, computed once per resource for all streams. */
const serviceNames = new WeakMap<EncodedResource, string | undefined>();

function serviceNameOf(entry: EncodedResource): string | undefined {
  if (serviceNames.has(entry)) return serviceNames.get(entry);
  const name = edsServiceName(entry.message as Cluster);
  serviceNames.set(entry, name);
  return name;
}

/** The EDS service names that follow a list of changed Clusters, per list. */
const followers = new WeakMap<readonly string[], string[]>();

/** What the watch needs of a request; the names are decoded only if it reads them. */
class RequestInfo implements SotwRequestInfo {
  readonly #request: DiscoveryRequest;
  readonly versionInfo: string;
  readonly initial: boolean;
  readonly namesBytes: Uint8Array | undefined;

  constructor(request: DiscoveryRequest, initial: boolean, namesBytes: Buffer | undefined) {
    this.#request = request;
    this.versionInfo = request.versionInfo;
    this.initial = initial;
    this.namesBytes = namesBytes;
  }

  get names(): readonly string[] {
    return this.#request.resourceNames;
  }
}

/**
 * Names that passed `checkSotwRequest` under a server's limits, by their shared bytes (lazy-names.ts `KeptNames`):
 * the same bytes pass the same check, so 10,000 ACKs repeating one subscription are checked once (rules L2, L5).
 */
const checkedNames = new WeakMap<Uint8Array, ResolvedLimits>();

/** Checks a request's names (rules L2, L5); returns their bytes when the decoder left them encoded. */
function checkRequest(limits: ResolvedLimits, request: DiscoveryRequest): Buffer | undefined {
  const kept = keptNames(request);
  const shared = kept?.shared === true ? kept.bytes : undefined;
  if (shared !== undefined && checkedNames.get(shared) === limits) return shared;
  checkSotwRequest(limits, request);
  if (shared !== undefined) checkedNames.set(shared, limits);
  return kept?.bytes;
}

/** A state-of-the-world stream, ADS or per type (rules S1–S13). */
export class SotwStream extends DiscoveryStream<DiscoveryRequest> {
  readonly kind = 'sotw' as const;

  protected handle(request: DiscoveryRequest, typeUrl: TypeUrl): void {
    const namesBytes = checkRequest(this.ctx.limits, request);
    let state = this.types.get(typeUrl);
    if (state === undefined) {
      state = this.openType(typeUrl, (options) => this.watcher(typeUrl).watchSotw(options));
      this.#resubscribe(state, request);
      this.#emitRequest(request, typeUrl, false, true);
      // Rule S4: the first request of a type is initial whatever nonce it carries.
      (state.watch as SotwWatch).request(new RequestInfo(request, true, namesBytes));
      return;
    }
    const nonce = request.responseNonce;
    const stale = nonce !== '' && nonce !== state.sentNonce;
    this.#emitRequest(request, typeUrl, stale, false);
    // Rule S4: a stale request changes nothing and gets no answer.
    if (stale) return;
    // Rule L2: the request replaces the type's subscription; a change past a limit ends the stream first.
    this.#resubscribe(state, request);
    // Rule L2: the version the client states is kept and shown cut (it is never compared).
    if (nonce !== '')
      this.answer(state, nonce, request.errorDetail, keptVersion(request.versionInfo, state.sentVersion));
    (state.watch as SotwWatch).request(new RequestInfo(request, false, namesBytes));
  }

  /** Charges the subscription a request states (rule L2); an ACK repeating it costs nothing more. */
  #resubscribe(state: TypeState, request: DiscoveryRequest): void {
    const size = sotwSubscriptionSize(request);
    if (size.count !== state.subscribedNames || size.bytes !== state.subscribedBytes)
      this.resubscribe(state, size.count, size.bytes);
  }

  protected respondFor(state: TypeState): void {
    const response = (state.watch as SotwWatch).take();
    if (response === undefined) return;
    const nonce = this.nextNonce();
    const bytes = encodeSotwParts(response, nonce, this.ctx.controlPlane);
    this.send(state, response.version, nonce, bytes, () => ({
      resources: response.resources.map((e) => e.name),
      removed: [],
    }));
    if (this.ads && response.typeUrl === T.Cluster && response.changed.length > 0)
      this.#endpointsFollow(response);
  }

  /** Rule S11: after a Cluster changes, a fresh ClusterLoadAssignment follows even if it did not change. */
  #endpointsFollow(response: SotwResponse): void {
    const eds = this.types.get(T.Endpoint);
    const cds = this.types.get(T.Cluster);
    if (eds === undefined || cds === undefined) return;
    // A `changed` list shared by many streams (they held the same snapshot) maps to one list of services.
    let names = followers.get(response.changed);
    if (names === undefined) {
      names = [];
      for (const name of response.changed) {
        const entry = cds.watch.lookup(name);
        const service = entry === undefined ? undefined : serviceNameOf(entry);
        if (service !== undefined) names.push(service);
      }
      followers.set(response.changed, names);
    }
    (eds.watch as SotwWatch).resend(names);
  }

  #emitRequest(request: DiscoveryRequest, typeUrl: TypeUrl, stale: boolean, initial: boolean): void {
    // No listener, no closure (this runs for every ACK).
    if (this.ctx.events.listenerCount('request') === 0) return;
    // A class, not a literal with a getter (V8 evaluates such a literal about 30× slower), nor one spreading the ids.
    this.emitRequest(
      (ids) => new SotwRequestEvent(ids.streamId, ids.nodeId, typeUrl, request, stale, initial),
    );
  }
}
