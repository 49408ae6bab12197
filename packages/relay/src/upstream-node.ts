/**
 * The node a relay presents upstream for one group (rule X4). Every downstream node of a group shares this one
 * upstream stream, so the origin's answer to it is every member's answer: it is built only from what the members
 * share, the group key (`--group-by`: the node id, the cluster or one metadata value), and the relay's own identity
 * (user agent `xds-relay` and its version, no client features), never from one member's other fields. Copying the
 * first member's metadata, features or user agent would let that one client (a hostile one, or one restarted with
 * new metadata while the group lives on) decide what the origin generates for the whole group. An origin that
 * generates by a node field must be matched by a `--group-by` on that field. The relay advertises no client feature:
 * it cannot unwrap TTL `Resource`s for its clients (rule R4), and a feature one member has another may lack.
 */
import { create, type JsonObject } from '@bufbuild/protobuf';
import { type Node, NodeSchema } from '@xds/api';
import type { GroupBy } from './group-by.js';
import { upstreamNodeIdPrefix } from './group-key.js';

/** The metadata key that names the relay group upstream. */
export const relayGroupKey = 'xds.relay.group';
/** The metadata key that says how the relay groups nodes. */
export const relayGroupByKey = 'xds.relay.group_by';
/** The user agent name of every upstream node. */
export const relayUserAgentName = 'xds-relay';

/** The upstream node of a group: `relay~GROUP`, the group key's field, the relay's identity. */
export function upstreamNode(group: string, groupBy: Pick<GroupBy, 'spec'>, relayVersion: string): Node {
  const spec = groupBy.spec;
  const metadata: JsonObject = { [relayGroupKey]: group, [relayGroupByKey]: spec };
  if (spec.startsWith('metadata:')) metadata[spec.slice('metadata:'.length)] = group;
  return create(NodeSchema, {
    id: `${upstreamNodeIdPrefix}${group}`,
    cluster: spec === 'cluster' ? group : '',
    metadata,
    userAgentName: relayUserAgentName,
    userAgentVersionType: { case: 'userAgentVersion', value: relayVersion },
  });
}
