/**
 * What the Kubernetes adapter keeps of Services, EndpointSlices and Pods, and how it maps them to registry services.
 * Only what the mapping reads is kept (names, ports, addresses, readiness, zone, a Pod's labels), never specs,
 * statuses or managedFields (rule L2: a cluster's Pods held whole took a gigabyte); a Pod's labels past
 * `maxInstanceLabelBytes` are not kept and its endpoints are left out with a reason naming the limit. Mapping:
 * hostname `<svc>.<ns>.svc.<domain>`; port protocol from `appProtocol`, else the port name's prefix; endpoint `ready`
 * → healthy (unset counts as ready, as Kubernetes says); `zone` → zone; the Pod's labels → labels. A service's output
 * is kept by the objects it was made of, so an update makes again only the services whose objects changed.
 */
import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import { labelBytes } from './check-service.js';
import { defaultPortName, portProtocol } from './protocol.js';
import type { RegistryInstance, RegistryPort, RegistryProblem, RegistryService } from './types.js';

/** What is kept of a Service: its name and ports. */
export interface KubeService {
  readonly name: string;
  readonly namespace: string;
  readonly ports: readonly {
    readonly name?: string;
    readonly port: number;
    readonly protocol?: string;
    readonly appProtocol?: string;
  }[];
}

/** What is kept of an EndpointSlice: its Service, address type, ports and endpoints. */
export interface KubeSlice {
  readonly namespace: string;
  /** Its `kubernetes.io/service-name` label. */
  readonly service: string | undefined;
  readonly addressType: string;
  readonly ports: readonly { readonly name?: string; readonly port?: number }[];
  readonly endpoints: readonly {
    readonly addresses: readonly string[];
    readonly ready: boolean;
    readonly zone: string;
    /** `namespace/name` of the Pod it targets. */
    readonly pod: string | undefined;
  }[];
  /** `namespace/name` of the slice. */
  readonly name: string;
  /** The endpoints and addresses not kept: past {@link maxSliceEndpoints} or {@link maxEndpointAddresses}. */
  readonly cut: number;
}

/** The most endpoints kept of one EndpointSlice: Kubernetes' own validation allows 1,000. */
export const maxSliceEndpoints = 1000;

/** The most addresses kept of one endpoint: Kubernetes' own validation allows 100. */
export const maxEndpointAddresses = 100;

/** What is kept of a Pod: its labels, or their size when they are past `maxInstanceLabelBytes`. */
export interface KubePod {
  readonly labels: Readonly<Record<string, string>>;
  /** Set when the labels were not kept: their bytes. */
  readonly tooLarge?: number;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The parts of a Service the mapping reads. */
export function compactService(service: V1Service): KubeService {
  return {
    name: service.metadata?.name ?? '',
    namespace: service.metadata?.namespace ?? '',
    ports: (Array.isArray(service.spec?.ports) ? service.spec.ports : []).map((p) => ({
      ...(text(p.name) === undefined ? {} : { name: p.name }),
      port: p.port,
      ...(text(p.protocol) === undefined ? {} : { protocol: p.protocol }),
      ...(text(p.appProtocol) === undefined ? {} : { appProtocol: p.appProtocol }),
    })),
  };
}

/** The parts of an EndpointSlice the mapping reads. */
export function compactSlice(slice: V1EndpointSlice): KubeSlice {
  const namespace = slice.metadata?.namespace ?? '';
  const endpoints = Array.isArray(slice.endpoints) ? slice.endpoints : [];
  let cut = Math.max(0, endpoints.length - maxSliceEndpoints);
  return {
    namespace,
    service: text(slice.metadata?.labels?.['kubernetes.io/service-name']),
    addressType: String(slice.addressType),
    ports: (Array.isArray(slice.ports) ? slice.ports : []).map((p) => ({
      ...(text(p.name) === undefined ? {} : { name: p.name }),
      ...(p.port === undefined ? {} : { port: p.port }),
    })),
    // rule L2: a slice holds at most what Kubernetes validates (a hostile apiserver's 2,000 × 100 per slice, one
    // slice every 200 ms, took 1.5 GiB in 30 s); the rest is counted and reported as an item error
    endpoints: endpoints.slice(0, maxSliceEndpoints).map((e) => {
      const ref = e.targetRef;
      const addresses = Array.isArray(e.addresses) ? e.addresses : [];
      if (addresses.length > maxEndpointAddresses) cut += addresses.length - maxEndpointAddresses;
      return {
        addresses: addresses.slice(0, maxEndpointAddresses).filter((a) => typeof a === 'string'),
        ready: e.conditions?.ready !== false,
        zone: text(e.zone) ?? '',
        pod: ref?.kind === 'Pod' ? `${ref.namespace ?? namespace}/${ref.name ?? ''}` : undefined,
      };
    }),
    name: `${namespace}/${slice.metadata?.name ?? ''}`,
    cut,
  };
}

/** The labels of a Pod, unless they are past `maxLabelBytes`. */
export function compactPod(pod: V1Pod, maxLabelBytes: number): KubePod {
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(pod.metadata?.labels ?? {})) {
    if (typeof value === 'string') labels[key] = value;
  }
  const bytes = labelBytes(labels);
  return bytes > maxLabelBytes ? { labels: {}, tooLarge: bytes } : { labels };
}

/** What a service's output was made of (compared by object) and the output, kept between updates. */
export interface Built {
  readonly inputs: readonly unknown[];
  readonly service: RegistryService;
  readonly problems: readonly RegistryProblem[];
}

/**
 * The registry services of Kubernetes objects (as kept), with the endpoints left out because their Pod's labels were
 * too large. `memo` keeps each service's output by the objects it was made of: a service whose Service, slices and
 * Pods are the same objects as before keeps its output object.
 */
export function kubernetesServices(
  services: ReadonlyMap<string, KubeService>,
  slices: Iterable<KubeSlice>,
  pods: ReadonlyMap<string, KubePod>,
  domain: string,
  maxLabelBytes: number,
  memo: Map<string, Built> = new Map(),
  maxInstances: number = Number.POSITIVE_INFINITY,
): { services: RegistryService[]; problems: RegistryProblem[] } {
  const slicesByService = new Map<string, KubeSlice[]>();
  for (const slice of slices) {
    if (slice.service === undefined || (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6'))
      continue;
    const key = `${slice.namespace}/${slice.service}`;
    const list = slicesByService.get(key) ?? [];
    list.push(slice);
    slicesByService.set(key, list);
  }
  const out: RegistryService[] = [];
  const problems: RegistryProblem[] = [];
  for (const [key, service] of services) {
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
        : buildService(service, own, pods, domain, maxLabelBytes, inputs, maxInstances);
    memo.set(key, built);
    out.push(built.service);
    problems.push(...built.problems);
  }
  for (const key of memo.keys()) if (!services.has(key)) memo.delete(key);
  return { services: out, problems };
}

function buildService(
  service: KubeService,
  slices: readonly KubeSlice[],
  pods: ReadonlyMap<string, KubePod>,
  domain: string,
  maxLabelBytes: number,
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
        message: `${slice.cut} endpoints or addresses of EndpointSlice ${slice.name} left out: over ${maxSliceEndpoints} endpoints per slice or ${maxEndpointAddresses} addresses per endpoint (Kubernetes' own limits)`,
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
      if (pod?.tooLarge !== undefined) {
        problems.push({
          item: JSON.stringify(hostname),
          message: `the endpoints of Pod ${endpoint.pod} left out: its labels are ${pod.tooLarge} bytes, over the limit of ${maxLabelBytes} (maxInstanceLabelBytes)`,
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
