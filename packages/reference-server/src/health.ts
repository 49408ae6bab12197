import type { Server } from '@grpc/grpc-js';
import { discoveryServices } from '@xds/api';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';

/** The gRPC health service (`grpc.health.v1.Health`) of the xDS port. */
export interface HealthService {
  /** Sets the status of the server (`""`) and of every xDS service. */
  set(status: ServingStatus): void;
}

/**
 * Adds `grpc.health.v1.Health` to a grpc-js server. It answers for the whole server (`""`) and for each xDS
 * discovery service by its full name; everything starts NOT_SERVING until {@link HealthService.set}.
 */
export function addHealthService(server: Server): HealthService {
  const names = ['', ...discoveryServices.map(({ service }) => service.typeName)];
  const implementation = new HealthImplementation(
    Object.fromEntries(names.map((name) => [name, 'NOT_SERVING' as ServingStatus])),
  );
  implementation.addToServer(server);
  return {
    set(status) {
      for (const name of names) implementation.setStatus(name, status);
    },
  };
}
