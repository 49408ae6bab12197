// The `reviews` service model that the interop tests serve from @xds/generator: one gRPC service on port 9080 with
// two backends on loopback (versions v1 and v2, a subset each) and the routes a test gives. Kept in one place, so the
// tests that route real gRPC clients through generated config (C-core, grpc-js-xds, the relay) share one model.
import type { SnapshotCache } from '@xds/cache';
import { type PublishModelOptions, parseModel, publishModel } from '@xds/generator';

/** The xDS target of the `reviews` service (domain cluster.local, namespace default, port 9080). */
export const reviewsTarget = 'xds:///reviews.default.svc.cluster.local:9080';

/**
 * The model's text: `reviews` with endpoints v1 and v2 on 127.0.0.1 at the given ports, subsets v1 and v2, and
 * `routes`, each one YAML list item of the service's routes (`- to: [{ subset: v1 }]`; further lines of an item
 * indented two more spaces).
 */
export function reviewsModel(v1: number, v2: number, routes: readonly string[]): string {
  return `domain: cluster.local
services:
  - name: reviews
    namespace: default
    ports: [{ name: grpc, port: 9080, protocol: GRPC }]
    endpoints:
      - { address: 127.0.0.1, port: ${v1}, labels: { version: v1 } }
      - { address: 127.0.0.1, port: ${v2}, labels: { version: v2 } }
    subsets:
      - { name: v1, labels: { version: v1 } }
      - { name: v2, labels: { version: v2 } }
    routes:
${routes.map((route) => `      ${route.replaceAll('\n', '\n      ')}\n`).join('')}`;
}

/** Parses a model's text and publishes it to `cache`; throws with the model's errors when it is not valid. */
export function publishModelText(
  cache: SnapshotCache,
  text: string,
  options: PublishModelOptions = {},
): void {
  const parsed = parseModel(text);
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.message).join('\n'));
  publishModel(cache, parsed.model, options);
}
