/**
 * How downstream nodes are put in groups (rule X4): nodes of one group share one upstream stream carrying the union
 * of their subscriptions. `node-id` (the default) gives every node its own upstream stream, as Istio's agent does;
 * `metadata:KEY` and `cluster` make the relay a fan-in tier.
 *
 * What an origin's answer depends on must be part of the group key, or one member decides it for all. Besides the
 * `--group-by` field, the key holds the node's flavour: what origins generate by (ours, `xds-server`, and Istio pick
 * Envoy or proxyless-gRPC config by it): the user agent name, metadata `GENERATOR`, and the client features the
 * relay passes on (`relayedFeatures`). Envoys and gRPC clients of one cluster are different groups, and each group's
 * upstream node presents exactly these shared fields (upstream-node.ts). A node with none of them has the bare field
 * value as its key (`web`); otherwise the key is `web|ua=gRPC Node|generator=grpc|features=a,b`, each part escaped
 * (`%`, `|` and `,` as `%25`, `%7C`, `%2C`) so no two different nodes' parts give one key.
 */
import type { JsonValue } from '@bufbuild/protobuf';
import { Code, type Node, XdsError } from '@xds/api';

/** A parsed `--group-by`. */
export interface GroupBy {
  /** The spec as given: `node-id`, `cluster` or `metadata:KEY`. */
  readonly spec: string;
  /** The node field the key comes from, for messages: `node.id`, `node.cluster` or `node.metadata["KEY"]`. */
  readonly field: string;
  /** The group of a node: its field's value and its flavour ({@link groupKeyOf}). */
  keyOf(node: Node): string;
  /** The value of the node's field alone (`''` when the node has none). */
  valueOf(node: Node): string;
}

/** The parts of a group key: the `--group-by` field's value and the flavour every member shares. */
export interface GroupParts {
  /** The value of the `--group-by` field (node id, cluster or metadata value). */
  readonly value: string;
  /** The members' `user_agent_name`; `''` when they send none. */
  readonly userAgentName: string;
  /** The members' metadata `GENERATOR` as text; `''` when they have none. */
  readonly generator: string;
  /** The client features the relay passes on that the members advertise, sorted, without repeats. */
  readonly features: readonly string[];
}

/**
 * Client features the relay never passes upstream, because the relay (the upstream stream's receiver) does not
 * honour them: `xds.config.supports-resource-ttl` (it cannot unwrap TTL `Resource`s for its clients, rule R4) and
 * `xds.config.resource-in-sotw` (the relay decodes plain resources; its own server wraps per client). Without them
 * an origin sends plain resources, which every client accepts; they are not part of the key either.
 */
export const featuresNotRelayed: ReadonlySet<string> = new Set([
  'xds.config.supports-resource-ttl',
  'xds.config.resource-in-sotw',
]);

/** Parses `node-id`, `cluster` or `metadata:KEY`; throws an XdsError (InvalidArgument) naming the forms. */
export function parseGroupBy(spec: string): GroupBy {
  const by = (field: string, value: (node: Node) => string): GroupBy => ({
    spec,
    field,
    keyOf: (node) => groupKeyOf(value(node), node),
    valueOf: value,
  });
  if (spec === 'node-id') return by('node.id', (node) => node.id);
  if (spec === 'cluster') return by('node.cluster', (node) => node.cluster);
  if (spec.startsWith('metadata:') && spec.length > 'metadata:'.length) {
    const key = spec.slice('metadata:'.length);
    return by(`node.metadata[${JSON.stringify(key)}]`, (node) => metadataText(node.metadata?.[key]));
  }
  throw new XdsError(
    Code.InvalidArgument,
    `--group-by ${JSON.stringify(spec)}: expected node-id, cluster or metadata:KEY`,
  );
}

/** The flavour parts of a node: user agent name, metadata GENERATOR, relayed features (sorted, unique). */
export function flavourOf(node: Node): Omit<GroupParts, 'value'> {
  const features = [...new Set(node.clientFeatures)].filter((f) => !featuresNotRelayed.has(f)).sort();
  return {
    userAgentName: node.userAgentName,
    generator: metadataText(node.metadata?.['GENERATOR']),
    features,
  };
}

/** The group key of a node whose `--group-by` field reads `value`. */
export function groupKeyOf(value: string, node: Node): string {
  return formatGroupKey({ value, ...flavourOf(node) });
}

/** Writes group parts as a key; the bare value when the flavour is empty. {@link parseGroupKey} reads it back. */
export function formatGroupKey(parts: GroupParts): string {
  let key = escapePart(parts.value);
  if (parts.userAgentName !== '') key += `|ua=${escapePart(parts.userAgentName)}`;
  if (parts.generator !== '') key += `|generator=${escapePart(parts.generator)}`;
  if (parts.features.length > 0) key += `|features=${parts.features.map(escapePart).join(',')}`;
  return key;
}

/** Reads a key {@link formatGroupKey} wrote. */
export function parseGroupKey(key: string): GroupParts {
  const [value = '', ...rest] = key.split('|');
  let userAgentName = '';
  let generator = '';
  let features: string[] = [];
  for (const part of rest) {
    const at = part.indexOf('=');
    const name = part.slice(0, at);
    const text = part.slice(at + 1);
    if (name === 'ua') userAgentName = unescapePart(text);
    else if (name === 'generator') generator = unescapePart(text);
    else if (name === 'features') features = text.split(',').map(unescapePart);
  }
  return { value: unescapePart(value), userAgentName, generator, features };
}

function escapePart(text: string): string {
  return text.replace(/[%|,]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function unescapePart(text: string): string {
  return text.replace(/%(25|7C|2C)/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** A metadata value as a group key: a string as is, anything else as JSON; missing is `''`. */
function metadataText(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
