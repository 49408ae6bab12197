import type { TypeUrl } from '@xds/api';
import type { SnapshotCache } from '@xds/cache';
import type { AckEvent, NackEvent, ResponseEvent, StreamCloseEvent, XdsServer } from '@xds/server';
import type { Metrics } from './metrics.js';
import { metricTypeLabel } from './type-labels.js';

interface Pending {
  /** The version the snapshot set for the type. */
  readonly version: string;
  /** When the snapshot was set (ms since the epoch). */
  readonly at: number;
  /** True once the response carrying it was written. */
  written: boolean;
}

/**
 * Measures pushes: when a snapshot is set, every connected node of its key that subscribes to a changed type is
 * expected to get that type's new version. The response being written observes `pilot_xds_push_time`, the
 * client's ACK of that version `pilot_proxy_convergence_time`. A NACK, a newer snapshot or the node leaving
 * drops the expectation.
 */
export class ConvergenceTracker {
  readonly #server: XdsServer;
  readonly #cache: SnapshotCache;
  readonly #metrics: Metrics;
  readonly #pending = new Map<string, Map<TypeUrl, Pending>>();
  readonly #detach: () => void;

  constructor(server: XdsServer, cache: SnapshotCache, metrics: Metrics) {
    this.#server = server;
    this.#cache = cache;
    this.#metrics = metrics;
    const onSnapshot = (event: { readonly key: string }) => this.#snapshotSet(event.key);
    const onResponse = (event: ResponseEvent) => this.#written(event);
    const onAck = (event: AckEvent) => this.#acked(event);
    const onNack = (event: NackEvent) => this.#pending.get(event.nodeId)?.delete(event.typeUrl);
    const onClose = (event: StreamCloseEvent) => this.#closed(event);
    cache.on('snapshot', onSnapshot);
    server.on('response', onResponse);
    server.on('ack', onAck);
    server.on('nack', onNack);
    server.on('streamClose', onClose);
    this.#detach = () => {
      cache.off('snapshot', onSnapshot);
      server.off('response', onResponse);
      server.off('ack', onAck);
      server.off('nack', onNack);
      server.off('streamClose', onClose);
    };
  }

  /** How many (node, type) pushes wait for an ACK. */
  get pending(): number {
    let count = 0;
    for (const types of this.#pending.values()) count += types.size;
    return count;
  }

  /** Stops listening. */
  close(): void {
    this.#detach();
    this.#pending.clear();
  }

  #snapshotSet(key: string): void {
    const snapshot = this.#cache.getSnapshot(key);
    if (snapshot === undefined) return;
    const at = Date.now();
    // Versions only: no subscribed names are copied (a client may hold 100,000 per stream).
    for (const client of this.#server.clients({ maxSubscribedNames: 0 })) {
      if (this.#cache.keyOf(client.node) !== key) continue;
      let types = this.#pending.get(client.nodeId);
      for (const typeUrl of Object.keys(client.types) as TypeUrl[]) {
        const version = snapshot.version(typeUrl);
        const current = client.types[typeUrl];
        if (current === undefined || current.ackedVersion === version || current.sentVersion === version)
          continue;
        if (types === undefined) {
          types = new Map();
          this.#pending.set(client.nodeId, types);
        }
        types.set(typeUrl, { version, at, written: false });
      }
    }
  }

  #written(event: ResponseEvent): void {
    const pending = this.#pending.get(event.nodeId)?.get(event.typeUrl);
    if (pending === undefined || pending.written || pending.version !== event.version) return;
    pending.written = true;
    this.#metrics.pushTime.observe(
      { type: metricTypeLabel(event.typeUrl, this.#cache.types) },
      (Date.now() - pending.at) / 1000,
    );
  }

  #acked(event: AckEvent): void {
    const types = this.#pending.get(event.nodeId);
    const pending = types?.get(event.typeUrl);
    if (types === undefined || pending === undefined || pending.version !== event.version) return;
    types.delete(event.typeUrl);
    if (types.size === 0) this.#pending.delete(event.nodeId);
    this.#metrics.convergenceTime.observe((Date.now() - pending.at) / 1000);
  }

  #closed(event: StreamCloseEvent): void {
    if (event.nodeId === '' || !this.#pending.has(event.nodeId)) return;
    if (!this.#server.hasClient(event.nodeId)) this.#pending.delete(event.nodeId);
  }
}
