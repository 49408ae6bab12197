/**
 * `@xds/registry`: service registries (Kubernetes, Consul, Eureka, etcd, memory) behind one interface, an
 * aggregate controller over them, and the generator's service model from the aggregate plus the model file.
 *
 * @packageDocumentation
 */
export { AggregateRegistry, type AggregateService, type PortConflict } from './aggregate.js';
export { Backoff, type BackoffOptions } from './backoff.js';
export {
  BodyParser,
  defaultParseOptions,
  type ParseCounts,
  type RegistryParseOptions,
} from './body-parser.js';
export {
  type CheckedServices,
  checkRegistryServices,
  instanceProblem,
  maxInstanceWeight,
  maxRegistryNameLength,
  maxWeightSum,
  nameProblem,
} from './check-service.js';
export { ConsulRegistry, type ConsulRegistryOptions } from './consul.js';
export { EtcdRegistry, type EtcdRegistryOptions } from './etcd.js';
export { EurekaRegistry, type EurekaRegistryOptions, eurekaHashcode } from './eureka.js';
export { eurekaVips, maxEurekaVipsPerInstance } from './eureka-services.js';
export { type BudgetRead, ByteBudget, RegistryLimitError, readJsonBody } from './http-body.js';
export { KubernetesRegistry, type KubernetesRegistryOptions } from './kubernetes.js';
export {
  type EtcdLocation,
  type EurekaLocation,
  minEurekaIntervalMs,
  parseConsulLocation,
  parseEtcdLocation,
  parseEurekaLocation,
} from './locations.js';
export { MemoryRegistry } from './memory.js';
export { canonicalJson, maxItemErrors, RegistryBase, sortServices } from './registry-base.js';
export { registryFromSpec } from './registry-from-spec.js';
export { defaultRegistryLimits, type RegistryLimits, resolveRegistryLimits } from './registry-limits.js';
export { portGroups, serviceModelOf } from './service-model.js';
export { parseRegistrySpec, type RegistrySpec } from './spec.js';
export type {
  Registry,
  RegistryEvents,
  RegistryInstance,
  RegistryKind,
  RegistryPort,
  RegistryProblem,
  RegistryService,
  RegistryStatus,
} from './types.js';
