/**
 * A relay bench peer for the "tier" scenario: an `@xds/relay` `Relay` in front of `--upstream HOST:PORT` (our origin
 * peer), behind the same control API and ready line as ours-peer.ts (peer-control.ts). Its downstream clients are
 * grouped by node id, so every bench client (node `bench`) shares one upstream stream, node `relay~bench|ua=envoy` at
 * the origin (rule X4; relay-origin-node.ts computes it). `/stats` counts the relay's downstream traffic and adds `upstreamConnected`.
 * Run with `node --expose-gc --import tsx`.
 */
import { Relay } from '@xds/relay';
import { loopback, option, runPeer } from './peer-control.js';
import { relayGroupBy } from './relay-origin-node.js';

const upstream = option('upstream', '');
loopback(upstream);
// As in ours-peer.ts: every bench client has the same node id, about 100 streams share a connection, and keepalive
// is grpc-go's (a ping after 2 h, 20 s for its answer), so that a loaded machine does not drop connections whose
// pings wait behind queued megabytes.
const relay = new Relay({
  upstreams: [upstream],
  groupBy: relayGroupBy,
  upstreamProtocol: option('upstream-protocol', 'delta') === 'sotw' ? 'sotw' : 'delta',
  server: {
    closeGraceMs: 500,
    limits: {
      maxStreamsPerNode: 1_000_000,
      maxStreamsPerConnection: 10_000,
      // Every bench client comes from 127.0.0.1 (see ours-peer.ts).
      maxSubscriptionBytesPerPeer: 2_000_000_000,
      maxPendingStreamsPerPeer: 1_000_000,
    },
    keepalive: { timeMs: 2 * 60 * 60 * 1000, timeoutMs: 20_000 },
  },
});

runPeer({
  server: relay.server,
  close: () => relay.close(),
  extraStats: () => ({ upstreamConnected: relay.upstreamState() === 'connected' }),
}).catch((error: unknown) => {
  process.stderr.write(`relay-peer: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
