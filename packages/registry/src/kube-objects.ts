/**
 * How the Kubernetes adapter maps what it keeps of Services, EndpointSlices and Pods (kube-compact.ts) to registry
 * services. An object that was not kept (text past a limit) is reported as a problem naming it; a Pod whose labels
 * were not kept (past `maxInstanceLabelBytes` or Kubernetes' limits) has its endpoints left out, naming why. Mapping:
 * hostname `<svc>.<ns>.svc.<domain>`; port protocol from `appProtocol`, else the port name's prefix; endpoint `ready`
 * → healthy (unset counts as ready, as Kubernetes says); `zone` → zone; the Pod's labels → labels. A service's output
 * is kept by the objects it was made of, so an update makes again only the services whose objects changed.
 */
import {
  type KubePod,
  type KubeService,
  type KubeSlice,
  maxEndpointAddresses,
  maxSliceEndpoints,
} from './kube-compact.js';
import { defaultPortName, portProtocol } from './protocol.js';
import { maxItemErrors } from './registry-base.js';
import type { RegistryInstance, RegistryPort, RegistryProblem, RegistryService } from './types.js';

/** What a service's output was made of (compared by object) and the output, kept between updates. */
export interface Built {
  readonly inputs: readonly unknown[];
  readonly service: RegistryService;
  readonly problems: readonly RegistryProblem[];
}

/**
 * The registry services of Kubernetes objects (as kept); `problems` says what was left out (objects not kept,
 * endpoints whose Pod's labels were not kept, endpoints cut from a slice): the first {@link maxItemErrors} of them,
 * `leftOut` counts them all. `memo` keeps each service's output by the objects it was made of: a service whose Service, slices and
 * Pods are the same objects as before keeps its output object.
 */
export function kubernetesServices(
  services: ReadonlyMap<string, KubeService>,
  slices: Iterable<KubeSlice>,
  pods: ReadonlyMap<string, KubePod>,
  domain: string,
  memo: Map<string, Built> = new Map(),
  maxInstances: number = Number.POSITIVE_INFINITY,
): { services: RegistryService[]; problems: RegistryProblem[]; leftOut: number } {
  const problems: RegistryProblem[] = [];
  let leftOut = 0;
  const at = new Date();
  const report = (problem: RegistryProblem): void => {
    leftOut++;
    if (problems.length < maxItemErrors) problems.push(problem);
  };
  const slicesByService = new Map<string, KubeSlice[]>();
  for (const slice of slices) {
    if (slice.refused !== undefined) {
      report({ item: slice.name, message: `EndpointSlice ${slice.name} left out: ${slice.refused}`, at });
      continue;
    }
    if (slice.service === undefined || (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6'))
      continue;
    const key = `${slice.namespace}/${slice.service}`;
    const list = slicesByService.get(key) ?? [];
    list.push(slice);
    slicesByService.set(key, list);
  }
  const out: RegistryService[] = [];
  for (const [key, service] of services) {
    if (service.refused !== undefined) {
      report({ item: key, message: `Service ${key} left out: ${service.refused}`, at });
      continue;
    }
    if (service.name === '' || service.namespace === '') continue;
    const own = slicesByService.get(key) ?? [];
    const inputs: unknown[] = [service, ...own];
    for (const slice of own)
      for (const e of slice.endpoints) inputs.push(e.pod === undefined ? undefined : pods.get(e.pod));
    const before = memo.get(key);
    const built =
      before !== undefined &&
      before.inputs.length === inputs.length &&
      before.inputs.every((x, i) => x === inputs[i])
        ? before
        : buildService(service, own, pods, domain, inputs, maxInstances);
    memo.set(key, built);
    out.push(built.service);
    for (const problem of built.problems) report(problem);
  }
  for (const key of memo.keys()) if (!services.has(key)) memo.delete(key);
  return { services: out, problems, leftOut };
}

function buildService(
  service: KubeService,
  slices: readonly KubeSlice[],
  pods: ReadonlyMap<string, KubePod>,
  domain: string,
  inputs: readonly unknown[],
  maxInstances: number,
): Built {
  const { name, namespace } = service;
  const hostname = `${name}.${namespace}.svc.${domain}`;
  const ports: RegistryPort[] = [];
  const portNameOf = new Map<string, string>();
  for (const p of service.ports) {
    const protocol = p.protocol === 'UDP' ? 'UDP' : portProtocol(p.appProtocol, p.name);
    const portName = p.name || defaultPortName(protocol, p.port);
    ports.push({ name: portName, port: p.port, protocol });
    portNameOf.set(p.name ?? '', portName);
  }
  const instances: RegistryInstance[] = [];
  const problems: RegistryProblem[] = [];
  for (const slice of slices) {
    if (slice.cut > 0) {
      problems.push({
        item: JSON.stringify(hostname),
        message: `${slice.cut} endpoints or addresses of EndpointSlice ${slice.name} left out: ${slice.cutWhy ?? `over ${maxSliceEndpoints} endpoints per slice or ${maxEndpointAddresses} addresses per endpoint (Kubernetes' own limits)`}`,
        at: new Date(),
      });
    }
    // one past maxInstancesPerService is enough for the update to be refused naming it: the rest is not built
    if (instances.length > maxInstances) break;
    const targetPorts: Record<string, number> = {};
    for (const sp of slice.ports) {
      const portName = portNameOf.get(sp.name ?? '');
      if (portName !== undefined && sp.port !== undefined) targetPorts[portName] = sp.port;
    }
    for (const endpoint of slice.endpoints) {
      const pod = endpoint.pod === undefined ? undefined : pods.get(endpoint.pod);
      if (pod?.refused !== undefined) {
        problems.push({
          item: JSON.stringify(hostname),
          message: `the endpoints of Pod ${endpoint.pod} left out: ${pod.refused}`,
          at: new Date(),
        });
        continue;
      }
      for (const address of endpoint.addresses) {
        if (instances.length > maxInstances) break;
        instances.push({
          address,
          ports: targetPorts,
          labels: pod?.labels ?? {},
          locality: { region: '', zone: endpoint.zone, subZone: '' },
          weight: 1,
          healthy: endpoint.ready,
        });
      }
    }
  }
  return { inputs, service: { hostname, name, namespace, ports, instances }, problems };
}
