// The xDS resources that route `xds:///echo.test:8080` to weighted backends, as a proxyless gRPC client needs them.

import { create } from '@bufbuild/protobuf';
import { Cluster_DiscoveryType, ClusterSchema, TypeUrl } from '@xds/api';
import { Snapshot } from '@xds/cache';
import {
  makeApiListener,
  makeCluster,
  makeClusterLoadAssignment,
  makeRouteConfiguration,
} from '@xds/generator';

/** The target the client dials. */
export const target = 'echo.test:8080';

/** A snapshot sending `weights[name]` of the traffic to the backend at `ports[name]`. */
export function echoSnapshot(
  ports: Readonly<Record<string, number>>,
  weights: Readonly<Record<string, number>>,
): Snapshot {
  const names = Object.keys(ports);
  return Snapshot.create([
    makeApiListener({ name: target, routeName: 'echo-route' }),
    makeRouteConfiguration({
      name: 'echo-route',
      virtualHosts: [
        {
          name: 'echo',
          domains: [target],
          routes: [
            {
              clusters: names
                .filter((n) => (weights[n] ?? 0) > 0)
                .map((n) => ({ name: n, weight: weights[n]! })),
            },
          ],
        },
      ],
    }),
    ...names.map((name) => makeCluster({ name, http2: true })),
    ...names.map((name) =>
      makeClusterLoadAssignment(name, [
        {
          locality: { region: 'local' },
          weight: 1,
          endpoints: [{ address: '127.0.0.1', port: ports[name]! }],
        },
      ]),
    ),
  ]);
}

/** The same snapshot with cluster `name` made STATIC, which gRPC clients reject. */
export function withStaticCluster(snapshot: Snapshot, name: string): Snapshot {
  return snapshot.update((draft) => {
    draft[TypeUrl.Cluster][name] = create(ClusterSchema, {
      name,
      clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.STATIC },
    });
  });
}
