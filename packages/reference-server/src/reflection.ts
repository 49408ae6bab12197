import { type DescFile, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import type { Server } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { ClientStatusDiscoveryService, discoveryServices } from '@xds/api';
import { service as healthService } from 'grpc-health-check';

type PackageDefinition = ConstructorParameters<typeof ReflectionService>[0];

/** Every file a set of files needs, dependencies first, each once. */
function closure(files: readonly DescFile[]): DescFile[] {
  const out: DescFile[] = [];
  const seen = new Set<string>();
  const visit = (file: DescFile) => {
    if (seen.has(file.name)) return;
    seen.add(file.name);
    for (const dependency of file.dependencies) visit(dependency);
    out.push(file);
  };
  for (const file of files) visit(file);
  return out;
}

/**
 * The package definition that server reflection describes: the files of the xDS discovery services and CSDS
 * (from the protobuf-es descriptors of `@xds/api`) and of `grpc.health.v1`.
 */
function packageDefinition(): PackageDefinition {
  const services = [...discoveryServices.map(({ service }) => service), ClientStatusDiscoveryService];
  const files = closure(services.map((service) => service.file));
  const xds = files.map((file) => Buffer.from(toBinary(FileDescriptorProtoSchema, file.proto)));
  const health = healthService['Check']?.requestType;
  // @grpc/reflection reads only `fileDescriptorProtos` from the definition's entries.
  const definition: Record<string, unknown> = {
    'envoy.service.discovery.v3': { fileDescriptorProtos: xds },
  };
  if (health !== undefined) definition['grpc.health.v1.HealthCheckRequest'] = health;
  return definition as PackageDefinition;
}

/** Adds gRPC server reflection (`grpc.reflection.v1` and `v1alpha`) describing the xDS and health services. */
export function addReflectionService(server: Server): void {
  new ReflectionService(packageDefinition()).addToServer(server);
}
