/**
 * The node a relay presents upstream for one group (rule X4). Every downstream node of a group shares this one
 * upstream stream, so the origin's answer to it is every member's answer: it is built only from what the members
 * share, the group key (group-by.ts): the `--group-by` field (the node id, the cluster or one metadata value) and the
 * flavour (user agent name, metadata `GENERATOR`, the client features the relay passes on), never from one member's
 * other fields. Copying the first member's other metadata, locality or user agent version would let that one client
 * (a hostile one, or one restarted with new metadata while the group lives on) decide what the origin generates for
 * the whole group; leaving the flavour out would give proxyless gRPC clients Envoy config from an origin that
 * generates by flavour (`xds-server`, Istio). A group whose members send no user agent name is presented as
 * `xds-relay`; the user agent version is always the relay's.
 */
import { create, type JsonObject } from '@bufbuild/protobuf';
import { type Node, NodeSchema } from '@xds/api';
import { type GroupBy, parseGroupKey } from './group-by.js';
import { upstreamNodeIdPrefix } from './group-key.js';

/** The metadata key that names the relay group upstream. */
export const relayGroupKey = 'xds.relay.group';
/** The metadata key that says how the relay groups nodes. */
export const relayGroupByKey = 'xds.relay.group_by';
/** The user agent name of an upstream node whose members send none. */
export const relayUserAgentName = 'xds-relay';

/**
 * The upstream node of a group: `relay~GROUP`, the group key's field, the members' shared flavour, the relay's
 * version.
 */
export function upstreamNode(group: string, groupBy: Pick<GroupBy, 'spec'>, relayVersion: string): Node {
  const spec = groupBy.spec;
  const parts = parseGroupKey(group);
  const metadata: JsonObject = { [relayGroupKey]: group, [relayGroupByKey]: spec };
  if (parts.generator !== '') metadata['GENERATOR'] = parts.generator;
  if (spec.startsWith('metadata:')) metadata[spec.slice('metadata:'.length)] = parts.value;
  return create(NodeSchema, {
    id: `${upstreamNodeIdPrefix}${group}`,
    cluster: spec === 'cluster' ? parts.value : '',
    metadata,
    userAgentName: parts.userAgentName === '' ? relayUserAgentName : parts.userAgentName,
    userAgentVersionType: { case: 'userAgentVersion', value: relayVersion },
    clientFeatures: [...parts.features],
  });
}
