/** Where the two reviews backends listen, and how traffic is split between them. */
export interface ReviewsModelOptions {
  readonly v1Port: number;
  readonly v2Port: number;
  /** The route weights of subsets v1 and v2 (at least one above 0). */
  readonly weights: { readonly v1: number; readonly v2: number };
}

/** The hostname a proxyless gRPC client dials: `xds:///reviews.default.svc.cluster.local:9080`. */
export const reviewsTarget = 'xds:///reviews.default.svc.cluster.local:9080';

/**
 * A Bookinfo-like service model (productpage, details, reviews, ratings on port 9080) whose reviews service has
 * two versions on real ports, split by route weights. Each destination's `weight:` is on a line of its own, so a
 * test can break or change it in place.
 */
export function reviewsModel(options: ReviewsModelOptions): string {
  const { v1Port, v2Port, weights } = options;
  return `# A Bookinfo-like mesh for the xds-server demo and tests. Change the weights below and save.
domain: cluster.local
services:
  - name: productpage
    ports: [{ name: http, port: 9080, protocol: HTTP }]
    endpoints:
      - { address: 127.0.0.1, port: 9081, labels: { version: v1 }, locality: { region: r1, zone: z1 } }
  - name: details
    ports: [{ name: http, port: 9080, protocol: HTTP }]
    endpoints:
      - { address: 127.0.0.1, port: 9082, labels: { version: v1 }, locality: { region: r1, zone: z1 } }
  - name: reviews
    namespace: default
    ports: [{ name: grpc, port: 9080, protocol: GRPC }]
    endpoints:
      - { address: 127.0.0.1, port: ${v1Port}, labels: { version: v1 }, locality: { region: r1, zone: z1 } }
      - { address: 127.0.0.1, port: ${v2Port}, labels: { version: v2 }, locality: { region: r1, zone: z1 } }
    subsets:
      - { name: v1, labels: { version: v1 } }
      - { name: v2, labels: { version: v2 } }
    routes:
      - match: { prefix: / }
        to:
          - subset: v1
            weight: ${weights.v1}
          - subset: v2
            weight: ${weights.v2}
  - name: ratings
    ports: [{ name: http, port: 9080, protocol: HTTP }]
    endpoints:
      - { address: 127.0.0.1, port: 9086, labels: { version: v1 }, locality: { region: r1, zone: z1 } }
`;
}
