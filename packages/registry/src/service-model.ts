/**
 * The generator's service model from the aggregate and the model file (the config controller): registry services
 * become model services; a file service with the same namespace and name as a registry service keeps its ports,
 * subsets and routes and takes the registry's host name and instances (after its own static endpoints). File
 * services no registry provides stay as written. A registry-only service whose instances serve only some of its ports
 * (`onlyNamedPorts`: Consul and Eureka instances with their own ports) becomes one model service per port, each
 * listing only the instances that serve that port, as Istio's registries build a cluster per (service, port): the
 * endpoints of all clusters add up to the instances, never ports × instances.
 */
import type { Service, ServiceEndpoint, ServiceModel, ServicePort } from '@xds/generator';
import type { AggregateService } from './aggregate.js';
import type { RegistryInstance } from './types.js';

function endpoints(instances: readonly RegistryInstance[]): ServiceEndpoint[] {
  return instances.map((i) => ({
    address: i.address,
    ...(i.port === undefined ? {} : { port: i.port }),
    ports: { ...i.ports },
    labels: { ...i.labels },
    locality: { ...i.locality },
    weight: i.weight,
    healthy: i.healthy,
    priority: 0,
  }));
}

/**
 * The model the generator takes: `file` (the validated model file, or an empty model) merged with the aggregate's
 * `services`. File services come first in file order, then registry-only services by host name.
 */
export function serviceModelOf(
  services: readonly AggregateService[],
  file: ServiceModel = { domain: 'cluster.local', services: [] },
): ServiceModel {
  const { domain } = file;
  const byKey = new Map(services.map((s) => [`${s.namespace}/${s.name}`, s]));
  const used = new Set<string>();
  const out: Service[] = [];
  for (const service of file.services) {
    const key = `${service.namespace}/${service.name}`;
    const registered = byKey.get(key);
    if (registered === undefined) {
      out.push(service);
      continue;
    }
    used.add(key);
    out.push({
      ...service,
      ...hostOf(registered, domain),
      endpoints: [...service.endpoints, ...endpoints(registered.instances)],
      subsets: service.subsets.length > 0 ? service.subsets : [...(registered.subsets ?? [])],
      routes: service.routes.length > 0 ? service.routes : [...(registered.routes ?? [])],
    });
  }
  for (const registered of services) {
    if (used.has(`${registered.namespace}/${registered.name}`)) continue;
    for (const group of portGroups(registered)) {
      out.push({
        name: registered.name,
        namespace: registered.namespace,
        ...hostOf(registered, domain),
        addresses: [],
        ports: group.ports.map((p) => ({ ...p })),
        endpoints: endpoints(group.instances),
        subsets: [...(registered.subsets ?? [])],
        routes: [...(registered.routes ?? [])],
      });
    }
  }
  return { domain, services: out };
}

/**
 * The service's ports with the instances serving each: one group with every port when every instance serves every
 * port (the usual case), else one group per port. Linear in instances × the ports each names.
 */
export function portGroups(
  service: AggregateService,
): { ports: readonly ServicePort[]; instances: readonly RegistryInstance[] }[] {
  if (!service.instances.some((i) => i.onlyNamedPorts === true))
    return [{ ports: service.ports, instances: service.instances }];
  const byName = new Map<string, RegistryInstance[]>(service.ports.map((p) => [p.name, []]));
  for (const instance of service.instances) {
    if (instance.onlyNamedPorts === true) {
      for (const name of Object.keys(instance.ports)) byName.get(name)?.push(instance);
    } else {
      for (const list of byName.values()) list.push(instance);
    }
  }
  if (service.ports.every((p) => byName.get(p.name)?.length === service.instances.length))
    return [{ ports: service.ports, instances: service.instances }];
  return service.ports.map((p) => ({ ports: [p], instances: byName.get(p.name) ?? [] }));
}

function hostOf(service: AggregateService, domain: string): { host?: string } {
  return service.hostname === `${service.name}.${service.namespace}.svc.${domain}`
    ? {}
    : { host: service.hostname };
}
