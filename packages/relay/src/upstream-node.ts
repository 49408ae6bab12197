/**
 * The node a relay presents upstream for one group (rule X4): the group's first downstream node, so that an origin
 * that generates per flavour or per metadata gives the group what it would give its members, with the id
 * `relay~GROUP` and metadata saying it is a relay and which group it carries.
 */
import { create, type JsonObject } from '@bufbuild/protobuf';
import { type Node, NodeSchema } from '@xds/api';

/** The metadata key that names the relay group upstream. */
export const relayGroupKey = 'xds.relay.group';
/** The metadata key that says how the relay groups nodes. */
export const relayGroupByKey = 'xds.relay.group_by';

/** The upstream node of a group, built from its first downstream node. */
export function upstreamNode(group: string, groupBy: string, first: Node): Node {
  const metadata: JsonObject = {
    ...(first.metadata ?? {}),
    [relayGroupKey]: group,
    [relayGroupByKey]: groupBy,
  };
  if (groupBy.startsWith('metadata:')) metadata[groupBy.slice('metadata:'.length)] = group;
  return create(NodeSchema, {
    id: `relay~${group}`,
    cluster: groupBy === 'cluster' ? group : first.cluster,
    metadata,
    userAgentName: first.userAgentName,
    userAgentVersionType: first.userAgentVersionType,
    clientFeatures: [...first.clientFeatures],
    ...(first.locality === undefined ? {} : { locality: first.locality }),
  });
}
