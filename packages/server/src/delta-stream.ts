import type { DeltaDiscoveryRequest, TypeUrl } from '@xds/api';
import type { DeltaWatch } from '@xds/cache';
import { encodeDeltaResponse } from './codec.js';
import { wholeResponse } from './direct-write.js';
import { DiscoveryStream } from './discovery-stream.js';
import { checkDeltaRequest } from './request-limits.js';
import type { TypeState } from './type-state.js';

/** An incremental (delta) stream, ADS or per type (rules D1–D8). */
export class DeltaStream extends DiscoveryStream<DeltaDiscoveryRequest> {
  readonly kind = 'delta' as const;

  protected handle(request: DeltaDiscoveryRequest, typeUrl: TypeUrl): void {
    let state = this.types.get(typeUrl);
    const size = checkDeltaRequest(this.ctx.limits, request, state?.watch, state?.subscribedBytes);
    const initial = state === undefined;
    if (state === undefined) {
      state = this.openType(typeUrl, (options) => this.watcher(typeUrl).watchDelta(options));
    }
    // Rule L2: a change past a limit ends the stream before it applies (D2: changes apply even with a stale nonce).
    if (size.count !== state.subscribedNames || size.bytes !== state.subscribedBytes)
      this.resubscribe(state, size.count, size.bytes);
    const nonce = request.responseNonce;
    const stale = !initial && nonce !== '' && nonce !== state.sentNonce;
    // Fields, not `...ids`: V8 builds a literal that spreads an object before more properties 30–40× slower (12–16 µs
    // against 0.4 µs here), and a connect storm emits an event per request (bench scenario 3).
    this.emitRequest((ids) => ({
      streamId: ids.streamId,
      nodeId: ids.nodeId,
      typeUrl,
      versionInfo: '',
      responseNonce: nonce,
      names: request.resourceNamesSubscribe,
      unsubscribe: request.resourceNamesUnsubscribe,
      stale,
      initial,
    }));
    // Rules S5, D8: delta requests carry no version; an ACK accepts the version sent with the nonce.
    if (!initial && !stale && nonce !== '') {
      const accepted =
        request.errorDetail === undefined ? (state.sentVersion ?? '') : (state.ackedVersion ?? '');
      this.answer(state, nonce, request.errorDetail, accepted);
    }
    // Rule D2: subscription changes apply even when the nonce is stale.
    (state.watch as DeltaWatch).request({
      subscribe: request.resourceNamesSubscribe,
      unsubscribe: request.resourceNamesUnsubscribe,
      initial,
      ...(initial ? { initialVersions: request.initialResourceVersions } : {}),
    });
  }

  protected respondFor(state: TypeState): void {
    const response = (state.watch as DeltaWatch).take();
    if (response === undefined) return;
    const nonce = this.nextNonce();
    const bytes = wholeResponse(encodeDeltaResponse(response, nonce, this.ctx.controlPlane));
    this.send(state, response.systemVersion, nonce, bytes, () => ({
      resources: response.resources.map((e) => e.name),
      removed: response.removed,
    }));
  }
}
