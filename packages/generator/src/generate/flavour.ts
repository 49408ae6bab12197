import type { Node } from '@xds/api';
import type { NodeKey } from '@xds/cache';

/** Who a config is for: Envoy sidecars, or proxyless gRPC clients. */
export type Flavour = 'envoy' | 'grpc';

/** Both flavours. */
export const flavours: readonly Flavour[] = Object.freeze(['envoy', 'grpc']);

/**
 * The flavour a node wants: `grpc` when its `user_agent_name` starts with `gRPC` (any case; gRPC libraries send
 * `gRPC Node`, `gRPC C-core`, …) or its metadata has `GENERATOR: grpc` (Istio's convention); else `envoy`.
 */
export function flavourOf(node: Node): Flavour {
  if (/^grpc/i.test(node.userAgentName)) return 'grpc';
  return node.metadata?.['GENERATOR'] === 'grpc' ? 'grpc' : 'envoy';
}

/** A SnapshotCache `nodeKey` that keeps one snapshot per flavour: `'envoy'` or `'grpc'`. */
export const nodeKeyByFlavour: NodeKey = (node) => flavourOf(node);
