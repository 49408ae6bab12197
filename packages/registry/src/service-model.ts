/**
 * The generator's service model from the aggregate and the model file (the config controller): registry services
 * become model services; a file service with the same namespace and name as a registry service keeps its ports,
 * subsets and routes and takes the registry's host name and instances (after its own static endpoints). File
 * services no registry provides stay as written.
 */
import type { Service, ServiceEndpoint, ServiceModel } from '@xds/generator';
import type { AggregateService } from './aggregate.js';

function endpoints(service: AggregateService): ServiceEndpoint[] {
  return service.instances.map((i) => ({
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
      endpoints: [...service.endpoints, ...endpoints(registered)],
      subsets: service.subsets.length > 0 ? service.subsets : [...(registered.subsets ?? [])],
      routes: service.routes.length > 0 ? service.routes : [...(registered.routes ?? [])],
    });
  }
  for (const registered of services) {
    if (used.has(`${registered.namespace}/${registered.name}`)) continue;
    out.push({
      name: registered.name,
      namespace: registered.namespace,
      ...hostOf(registered, domain),
      addresses: [],
      ports: registered.ports.map((p) => ({ ...p })),
      endpoints: endpoints(registered),
      subsets: [...(registered.subsets ?? [])],
      routes: [...(registered.routes ?? [])],
    });
  }
  return { domain, services: out };
}

function hostOf(service: AggregateService, domain: string): { host?: string } {
  return service.hostname === `${service.name}.${service.namespace}.svc.${domain}`
    ? {}
    : { host: service.hostname };
}
