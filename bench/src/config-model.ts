/**
 * The bench's configuration: `services` services, each a Cluster (EDS over ADS), a ClusterLoadAssignment with
 * `endpoints` endpoints, an HTTP Listener and a RouteConfiguration, built with @xds/generator's builders and
 * serialized to the records body of `POST /snapshot`. Only what changed is rebuilt between versions.
 */
import { type DescMessage, type MessageShape, toBinary } from '@bufbuild/protobuf';
import { AnySchema, anyPack } from '@bufbuild/protobuf/wkt';
import {
  ClusterLoadAssignmentSchema,
  ClusterSchema,
  ListenerSchema,
  RouteConfigurationSchema,
} from '@xds/api';
import {
  makeCluster,
  makeClusterLoadAssignment,
  makeHttpListener,
  makeRouteConfiguration,
} from '@xds/generator';
import { encodeRecords } from './records.js';

/** The shape of a configuration. */
export interface ModelShape {
  readonly services: number;
  readonly endpoints: number;
}

function record<T extends DescMessage>(schema: T, message: MessageShape<T>): Uint8Array {
  return toBinary(AnySchema, anyPack(schema, message));
}

/** Records of the parts every node shares, by `kind:service:epoch`. */
const shared = new Map<string, Uint8Array>();

function sharedRecord(kind: 'cluster' | 'listener' | 'route', i: number, epoch: number): Uint8Array {
  const key = `${kind}:${i}:${epoch}`;
  let bytes = shared.get(key);
  if (bytes !== undefined) return bytes;
  const name = `svc-${i}`;
  if (kind === 'cluster')
    bytes = record(ClusterSchema, makeCluster({ name, connectTimeoutMs: 1000 + epoch }));
  else if (kind === 'listener') {
    bytes = record(
      ListenerSchema,
      makeHttpListener({
        name: `listener-${i}`,
        address: '0.0.0.0',
        port: 10000 + (i % 50000),
        routeName: `route-${i}`,
        statPrefix: `${name}-e${epoch}`,
      }),
    );
  } else {
    bytes = record(
      RouteConfigurationSchema,
      makeRouteConfiguration({
        name: `route-${i}`,
        virtualHosts: [
          {
            name,
            domains: [name, `${name}.bench.svc.cluster.local`, `${name}:80`],
            routes: [{ match: { prefix: '/' }, cluster: name, timeoutMs: 15000 + epoch }],
          },
        ],
      }),
    );
  }
  shared.set(key, bytes);
  return bytes;
}

/** Forgets the shared records (between scenarios). */
export function clearSharedRecords(): void {
  shared.clear();
}

/**
 * One node's configuration, changed step by step. `variant` makes a node's endpoints differ from other nodes'
 * (scenario 2); everything but the endpoints is shared.
 */
export class ConfigModel {
  readonly shape: ModelShape;
  readonly #variant: number;
  readonly #generation: Uint32Array;
  readonly #assignments: (Uint8Array | undefined)[];
  #epoch = 0;

  constructor(shape: ModelShape, variant = 0) {
    this.shape = shape;
    this.#variant = variant;
    this.#generation = new Uint32Array(shape.services);
    this.#assignments = new Array(shape.services);
  }

  /** New endpoints for the given services. */
  changeEndpoints(services: Iterable<number>): void {
    for (const i of services) {
      this.#generation[i]!++;
      this.#assignments[i] = undefined;
    }
  }

  /** A change of every resource of every type. */
  changeAll(): void {
    this.#epoch++;
    this.changeEndpoints(this.#generation.keys());
  }

  /** The records body of the current configuration. */
  records(): Buffer {
    const out: Uint8Array[] = [];
    const n = this.shape.services;
    for (let i = 0; i < n; i++) out.push(sharedRecord('cluster', i, this.#epoch));
    for (let i = 0; i < n; i++) out.push(this.#assignment(i));
    for (let i = 0; i < n; i++) out.push(sharedRecord('listener', i, this.#epoch));
    for (let i = 0; i < n; i++) out.push(sharedRecord('route', i, this.#epoch));
    return encodeRecords(out);
  }

  #assignment(i: number): Uint8Array {
    const known = this.#assignments[i];
    if (known !== undefined) return known;
    const count = this.shape.endpoints;
    const generation = this.#generation[i]!;
    const port = 1024 + ((generation * 7 + this.#variant * 13) % 60000);
    const endpoints = [];
    for (let j = 0; j < count; j++) {
      const index = i * count + j;
      const address = `10.${(this.#variant + (index >> 16)) & 255}.${(index >> 8) & 255}.${index & 255}`;
      endpoints.push({ address, port });
    }
    const bytes = record(
      ClusterLoadAssignmentSchema,
      makeClusterLoadAssignment(`svc-${i}`, [
        { locality: { region: 'bench', zone: `zone-${i % 3}` }, weight: 1, endpoints },
      ]),
    );
    this.#assignments[i] = bytes;
    return bytes;
  }
}
