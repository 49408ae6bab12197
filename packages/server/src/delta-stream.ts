import type { DeltaDiscoveryRequest, TypeUrl } from '@xds/api';
import type { DeltaWatch } from '@xds/cache';
import { encodeDeltaResponse } from './codec.js';
import { DiscoveryStream } from './discovery-stream.js';
import { TypeState } from './type-state.js';

const ttlFeature = 'xds.config.supports-resource-ttl';

/** An incremental (delta) stream, ADS or per type (rules D1–D8). */
export class DeltaStream extends DiscoveryStream<DeltaDiscoveryRequest> {
  readonly kind = 'delta' as const;

  protected handle(request: DeltaDiscoveryRequest, typeUrl: TypeUrl): void {
    const node = this.node!;
    let state = this.types.get(typeUrl);
    const initial = state === undefined;
    if (state === undefined) {
      const watch = this.ctx.cache.watchDelta({
        node,
        typeUrl,
        ads: this.ads,
        onReady: this.readyCallback(typeUrl),
        legacyWildcard: this.ctx.legacyWildcard(node, typeUrl),
        supportsTtl: node.clientFeatures.includes(ttlFeature),
      });
      state = new TypeState(typeUrl, watch);
      this.types.set(typeUrl, state);
    }
    const nonce = request.responseNonce;
    const stale = !initial && nonce !== '' && nonce !== state.sentNonce;
    this.#emitRequest(request, typeUrl, stale, initial);
    if (!initial && !stale && nonce !== '' && state.answeredNonce !== nonce)
      this.#answer(state, request, nonce);
    // Rule D2: subscription changes apply even when the nonce is stale.
    (state.watch as DeltaWatch).request({
      subscribe: request.resourceNamesSubscribe,
      unsubscribe: request.resourceNamesUnsubscribe,
      initial,
      ...(initial ? { initialVersions: request.initialResourceVersions } : {}),
    });
  }

  /** Rules S5, D8: ACK or NACK by error_detail. */
  #answer(state: TypeState, request: DeltaDiscoveryRequest, nonce: string): void {
    const events = this.ctx.events;
    const detail = request.errorDetail;
    if (detail !== undefined) {
      state.nacked(detail.message, nonce);
      events.emit('nack', {
        nodeId: this.nodeId,
        streamId: this.id,
        typeUrl: state.typeUrl,
        version: state.sentVersion ?? '',
        nonce,
        message: detail.message,
        acceptedVersion: state.ackedVersion ?? '',
      });
      return;
    }
    const version = state.sentVersion ?? '';
    state.acked(version, nonce);
    events.emit('ack', { nodeId: this.nodeId, streamId: this.id, typeUrl: state.typeUrl, version, nonce });
  }

  protected respond(state: TypeState): void {
    const response = (state.watch as DeltaWatch).take();
    if (response === undefined) return;
    const nonce = this.nextNonce();
    const bytes = encodeDeltaResponse(response, nonce, this.ctx.controlPlane);
    state.sent(response.systemVersion, nonce);
    this.write(bytes);
    const events = this.ctx.events;
    if (events.listenerCount('response') > 0) {
      events.emit('response', {
        streamId: this.id,
        nodeId: this.nodeId,
        typeUrl: state.typeUrl,
        version: response.systemVersion,
        nonce,
        resources: response.resources.map((e) => e.name),
        removed: response.removed,
        bytes: bytes.length,
      });
    }
  }

  #emitRequest(request: DeltaDiscoveryRequest, typeUrl: TypeUrl, stale: boolean, initial: boolean): void {
    const events = this.ctx.events;
    if (events.listenerCount('request') === 0) return;
    events.emit('request', {
      streamId: this.id,
      nodeId: this.nodeId,
      typeUrl,
      versionInfo: '',
      responseNonce: request.responseNonce,
      names: request.resourceNamesSubscribe,
      unsubscribe: request.resourceNamesUnsubscribe,
      stale,
      initial,
    });
  }
}
