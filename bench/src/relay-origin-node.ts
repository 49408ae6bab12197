/**
 * Where the "tier" scenario's origin holds the relays' snapshot (rule X4): at the node id a relay (relay-peer.ts)
 * presents upstream for the bench's clients, computed with the relay's own functions from the very node the load
 * clients send (wire.ts `encodeNode`), never spelled out here. The relay's upstream node id is `relay~KEY`, and since
 * a4c1497 KEY holds the clients' flavour as well as the grouped field (the bench's clients say user agent `envoy`:
 * `relay~bench|ua=envoy`); the scenario kept posting at `relay~bench`, which no relay asks for, so the origin never
 * answered and every relayed client waited until the run's limit.
 */
import { fromBinary } from '@bufbuild/protobuf';
import { NodeSchema } from '@xds/api';
import { parseGroupBy, upstreamNode } from '@xds/relay';
import { encodeNode } from './wire.js';

/** How relay-peer.ts groups downstream nodes: by node id, so every bench client of one node id shares a group. */
export const relayGroupBy = 'node-id';

/** The node id under which an origin must hold the snapshot for bench clients of node id `nodeId` behind a relay. */
export function relayOriginNode(nodeId: string): string {
  const groupBy = parseGroupBy(relayGroupBy);
  const node = fromBinary(NodeSchema, encodeNode(nodeId));
  return upstreamNode(groupBy.keyOf(node), groupBy, '').id;
}
