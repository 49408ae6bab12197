// Nodes that go past the node limits (rule L2), shared by the gRPC tests (node-limits.test.ts) and the REST ones
// (rest-json.test.ts): both transports hold a node to the same limits, so they are shown the same nodes.
import type { JsonObject } from '@bufbuild/protobuf';

/** A node whose `client_features` has `count` entries (`f0`, `f1`, …). */
export function nodeWithFeatures(count: number): { id: string; clientFeatures: string[] } {
  return { id: 'n1', clientFeatures: Array.from({ length: count }, (_, i) => `f${i}`) };
}

/**
 * Metadata of `perLevel` keys at its top and `perLevel` more one level down (in `inner`): 2 × `perLevel` + 1
 * Struct entries in all, counted across levels against `maxNodeListEntries`, each level within it.
 */
export function twoLevelMetadata(perLevel: number): JsonObject {
  const inner: JsonObject = {};
  const metadata: JsonObject = { inner };
  for (let i = 0; i < perLevel; i++) {
    metadata[`k${i}`] = i;
    inner[`k${i}`] = i;
  }
  return metadata;
}
