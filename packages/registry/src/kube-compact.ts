/**
 * What the Kubernetes adapter keeps of a Service, an EndpointSlice and a Pod (rule L2): only what the mapping reads
 * (names, ports, addresses, readiness, zone, a Pod's labels), never specs, statuses or managedFields (a cluster's Pods
 * held whole took a gigabyte), and no text past Kubernetes' own validation limits, which a real apiserver enforces
 * (kept-text.ts: 253 characters for names and addresses, 63 for namespaces, port names, zones and label values, 317
 * for label keys). Before, a hostile or broken apiserver could make each kept object hold strings of any length
 * (review Q3, Q9), and a Pod's labels given as a string became one label per character (review R12). Now an object
 * with text past a limit, or labels that are not a map, is kept only as its reason (`refused`), reported as a
 * registry problem naming the object; an endpoint of a slice with such text is left out and counted (`cut`). Runs
 * in the parse worker for list pages (parse-jobs.ts) and on the event loop for watch events: the same code.
 */
import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import { labelBytes } from './check-service.js';
import {
  boundedKey,
  maxKeptLabelLength,
  maxKeptNameLength,
  maxLabelKeyLength,
  quoted,
  textProblem,
} from './kept-text.js';

/** What is kept of a Service: its name and ports, or only why it is not kept. */
export interface KubeService {
  readonly name: string;
  readonly namespace: string;
  readonly ports: readonly {
    readonly name?: string;
    readonly port: number;
    readonly protocol?: string;
    readonly appProtocol?: string;
  }[];
  /** Set when the Service is not kept (text past a limit): why, naming the field. Its name and ports are empty. */
  readonly refused?: string;
}

/** What is kept of an EndpointSlice: its Service, address type, ports and endpoints. */
export interface KubeSlice {
  readonly namespace: string;
  /** Its `kubernetes.io/service-name` label. */
  readonly service: string | undefined;
  /** `IPv4`, `IPv6`, `FQDN`, or `other` for any other value. */
  readonly addressType: string;
  readonly ports: readonly { readonly name?: string; readonly port?: number }[];
  readonly endpoints: readonly {
    readonly addresses: readonly string[];
    readonly ready: boolean;
    readonly zone: string;
    /** `namespace/name` of the Pod it targets. */
    readonly pod: string | undefined;
  }[];
  /** `namespace/name` of the slice (bounded, see `boundedKey`). */
  readonly name: string;
  /**
   * The endpoints and addresses not kept: past {@link maxSliceEndpoints} or {@link maxEndpointAddresses}, or with
   * text past a limit.
   */
  readonly cut: number;
  /** Why the first of them was not kept, when `cut` is not 0. */
  readonly cutWhy?: string;
  /** Set when the slice is not kept (text past a limit): why, naming the field. It has no ports or endpoints. */
  readonly refused?: string;
}

/** The most endpoints kept of one EndpointSlice: Kubernetes' own validation allows 1,000. */
export const maxSliceEndpoints = 1000;

/** The most addresses kept of one endpoint: Kubernetes' own validation allows 100. */
export const maxEndpointAddresses = 100;

/** What is kept of a Pod: its labels, or only why they are not kept. */
export interface KubePod {
  readonly labels: Readonly<Record<string, string>>;
  /**
   * Set when the labels are not kept (past `maxInstanceLabelBytes`, a label past Kubernetes' limits, not a map):
   * why. The Pod's endpoints are left out, with this reason.
   */
  readonly refused?: string;
}

const dnsSubdomain = 'a DNS subdomain';
const dnsLabel = 'a DNS label';

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The text of an optional field, unless it is past `max`: then the reason. */
function optional(what: string, value: unknown, max: number, bound: string): string | undefined {
  return value === undefined || value === null ? undefined : textProblem(what, value, max, bound);
}

/** The key (`namespace/name`, bounded) of a Kubernetes object, whatever the object is. */
export function kubeKey(object: unknown): string {
  const meta = (object as { metadata?: { namespace?: unknown; name?: unknown } } | null)?.metadata;
  return boundedKey(text(meta?.namespace) ?? '', text(meta?.name) ?? '');
}

/** Why an object's name or namespace is not kept, or undefined. */
function metaProblem(meta: { name?: unknown; namespace?: unknown } | undefined): string | undefined {
  return (
    optional('metadata.name', meta?.name, maxKeptNameLength, dnsSubdomain) ??
    optional('metadata.namespace', meta?.namespace, maxKeptLabelLength, dnsLabel)
  );
}

/** The parts of a Service the mapping reads, or why it is not kept. */
export function compactService(service: V1Service): KubeService {
  const ports = Array.isArray(service.spec?.ports) ? service.spec.ports : [];
  let refused = metaProblem(service.metadata);
  for (const [i, p] of ports.entries()) {
    if (refused !== undefined) break;
    const at = `spec.ports[${i}]`;
    if (typeof p !== 'object' || p === null) refused = `${at} is not an object`;
    else
      refused =
        (typeof p.port === 'number' ? undefined : `${at}.port ${quoted(p.port)} is not a number`) ??
        optional(`${at}.name`, p.name, maxKeptLabelLength, dnsLabel) ??
        optional(`${at}.protocol`, p.protocol, maxKeptLabelLength, dnsLabel) ??
        optional(`${at}.appProtocol`, p.appProtocol, maxLabelKeyLength, 'a qualified name');
  }
  if (refused !== undefined) return { name: '', namespace: '', ports: [], refused };
  return {
    name: service.metadata?.name ?? '',
    namespace: service.metadata?.namespace ?? '',
    ports: ports.map((p) => ({
      ...(text(p.name) === undefined ? {} : { name: p.name }),
      port: p.port,
      ...(text(p.protocol) === undefined ? {} : { protocol: p.protocol }),
      ...(text(p.appProtocol) === undefined ? {} : { appProtocol: p.appProtocol }),
    })),
  };
}

/** Why an endpoint of a slice is not kept (text past a limit), or undefined. */
function endpointProblem(
  endpoint: NonNullable<V1EndpointSlice['endpoints']>[number],
  at: string,
): string | undefined {
  const ref = endpoint?.targetRef;
  const addresses = Array.isArray(endpoint?.addresses) ? endpoint.addresses : [];
  const long = addresses.findIndex((a) => typeof a === 'string' && a.length > maxKeptNameLength);
  return (
    (long === -1
      ? undefined
      : textProblem(`${at}.addresses[${long}]`, addresses[long], maxKeptNameLength, dnsSubdomain)) ??
    optional(`${at}.zone`, endpoint?.zone, maxKeptLabelLength, 'a label value') ??
    optional(`${at}.targetRef.name`, ref?.name, maxKeptNameLength, dnsSubdomain) ??
    optional(`${at}.targetRef.namespace`, ref?.namespace, maxKeptLabelLength, dnsLabel)
  );
}

/** The parts of an EndpointSlice the mapping reads, or why it is not kept. */
export function compactSlice(slice: V1EndpointSlice): KubeSlice {
  const namespace = slice.metadata?.namespace ?? '';
  const name = kubeKey(slice);
  const ports = Array.isArray(slice.ports) ? slice.ports : [];
  let refused =
    metaProblem(slice.metadata) ??
    optional(
      "metadata.labels['kubernetes.io/service-name']",
      slice.metadata?.labels?.['kubernetes.io/service-name'],
      maxKeptNameLength,
      dnsSubdomain,
    );
  for (const [i, p] of ports.entries()) {
    refused ??= optional(`ports[${i}].name`, p?.name, maxKeptLabelLength, dnsLabel);
  }
  if (refused !== undefined)
    return {
      namespace: '',
      service: undefined,
      addressType: 'other',
      ports: [],
      endpoints: [],
      name,
      cut: 0,
      refused,
    };
  const endpoints = Array.isArray(slice.endpoints) ? slice.endpoints : [];
  let cut = Math.max(0, endpoints.length - maxSliceEndpoints);
  let cutWhy = cut > 0 ? `over ${maxSliceEndpoints} endpoints per slice (Kubernetes' own limit)` : undefined;
  const kept: KubeSlice['endpoints'][number][] = [];
  // rule L2: a slice holds at most what Kubernetes validates (a hostile apiserver's 2,000 × 100 per slice, one
  // slice every 200 ms, took 1.5 GiB in 30 s); the rest is counted and reported as an item error
  for (const [i, e] of endpoints.slice(0, maxSliceEndpoints).entries()) {
    const problem = endpointProblem(e, `endpoints[${i}]`);
    if (problem !== undefined) {
      cut++;
      cutWhy ??= problem;
      continue;
    }
    const ref = e.targetRef;
    const addresses = Array.isArray(e.addresses) ? e.addresses : [];
    if (addresses.length > maxEndpointAddresses) {
      cut += addresses.length - maxEndpointAddresses;
      cutWhy ??= `over ${maxEndpointAddresses} addresses per endpoint (Kubernetes' own limit)`;
    }
    kept.push({
      addresses: addresses.slice(0, maxEndpointAddresses).filter((a) => typeof a === 'string'),
      ready: e.conditions?.ready !== false,
      zone: text(e.zone) ?? '',
      pod: ref?.kind === 'Pod' ? `${ref.namespace ?? namespace}/${ref.name ?? ''}` : undefined,
    });
  }
  const type = slice.addressType;
  return {
    namespace,
    service: text(slice.metadata?.labels?.['kubernetes.io/service-name']),
    addressType: type === 'IPv4' || type === 'IPv6' || type === 'FQDN' ? type : 'other',
    ports: ports.map((p) => ({
      ...(text(p.name) === undefined ? {} : { name: p.name }),
      ...(typeof p.port === 'number' ? { port: p.port } : {}),
    })),
    endpoints: kept,
    name,
    cut,
    ...(cutWhy === undefined ? {} : { cutWhy }),
  };
}

/**
 * The labels of a Pod, unless they are past `maxLabelBytes`, one is past Kubernetes' limits (a key of 317
 * characters, a value of 63), or they are not a map of strings (a string's characters are not labels).
 */
export function compactPod(pod: V1Pod, maxLabelBytes: number): KubePod {
  const given: unknown = pod.metadata?.labels;
  if (given === undefined || given === null) return { labels: {} };
  if (typeof given !== 'object' || Array.isArray(given))
    return { labels: {}, refused: `its metadata.labels is ${quoted(given)}, not a map of strings` };
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(given)) {
    if (typeof value !== 'string') continue;
    const problem =
      textProblem(`its label key ${quoted(key)}`, key, maxLabelKeyLength, 'a qualified name') ??
      textProblem(`the value of its label ${quoted(key)}`, value, maxKeptLabelLength, 'a label value');
    if (problem !== undefined) return { labels: {}, refused: problem };
    labels[key] = value;
  }
  const bytes = labelBytes(labels);
  return bytes > maxLabelBytes
    ? {
        labels: {},
        refused: `its labels are ${bytes} bytes, over the limit of ${maxLabelBytes} (maxInstanceLabelBytes)`,
      }
    : { labels };
}
