/**
 * How downstream nodes are put in groups (rule X4): nodes of one group share one upstream stream carrying the union
 * of their subscriptions. `node-id` (the default) gives every node its own upstream stream, as Istio's agent does;
 * `metadata:KEY` and `cluster` make the relay a fan-in tier.
 */
import type { JsonValue } from '@bufbuild/protobuf';
import { Code, type Node, XdsError } from '@xds/api';

/** A parsed `--group-by`. */
export interface GroupBy {
  /** The spec as given: `node-id`, `cluster` or `metadata:KEY`. */
  readonly spec: string;
  /** The node field the key comes from, for messages: `node.id`, `node.cluster` or `node.metadata["KEY"]`. */
  readonly field: string;
  /** The group of a node. */
  keyOf(node: Node): string;
}

/** Parses `node-id`, `cluster` or `metadata:KEY`; throws an XdsError (InvalidArgument) naming the forms. */
export function parseGroupBy(spec: string): GroupBy {
  if (spec === 'node-id') return { spec, field: 'node.id', keyOf: (node) => node.id };
  if (spec === 'cluster') return { spec, field: 'node.cluster', keyOf: (node) => node.cluster };
  if (spec.startsWith('metadata:') && spec.length > 'metadata:'.length) {
    const key = spec.slice('metadata:'.length);
    return {
      spec,
      field: `node.metadata[${JSON.stringify(key)}]`,
      keyOf: (node) => metadataText(node.metadata?.[key]),
    };
  }
  throw new XdsError(
    Code.InvalidArgument,
    `--group-by ${JSON.stringify(spec)}: expected node-id, cluster or metadata:KEY`,
  );
}

/** A metadata value as a group key: a string as is, anything else as JSON; missing is `''`. */
function metadataText(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
