// Helpers for the Kubernetes adapter's tests against a real kube-apiserver (scripts/registries/kube-apiserver.mjs):
// API clients from a kubeconfig, Services with one EndpointSlice, changes to a slice's endpoints, and cutting the
// registry off by stopping the apiserver. kube-apiserver refuses loopback endpoint addresses, so tests use
// 192.0.2.x (data only) and assert on EDS content.
import { after, before } from 'node:test';
import {
  CoreV1Api,
  DiscoveryV1Api,
  KubeConfig,
  type V1EndpointSlice,
  type V1Service,
} from '@kubernetes/client-node';
import { type RunningKube, startKubeApiserver } from '../../../scripts/registries/kube-apiserver.mjs';
import { type SilentProxy, startSilentProxy } from './kube-proxy.js';
import { KubernetesRegistry, type KubernetesRegistryOptions } from './kubernetes.js';
import { until } from './test-support.js';

/** The API clients the tests write objects with. */
export interface KubeClients {
  readonly core: CoreV1Api;
  readonly discovery: DiscoveryV1Api;
}

/** The kube-apiserver of a `describe` block and its API clients (see {@link useKubeApiserver}). */
export interface KubeFixture extends KubeClients {
  readonly kube: RunningKube;
}

/**
 * Starts a real kube-apiserver (on its own etcd) before the tests of the calling `describe` block and stops it after
 * them; the returned fixture's fields are there once the block's tests run.
 */
export function useKubeApiserver(): KubeFixture {
  let running: (KubeClients & { kube: RunningKube }) | undefined;
  const get = () => {
    if (running === undefined)
      throw new Error('kube-apiserver is not started: use the fixture inside a test');
    return running;
  };
  before(async () => {
    const kube = await startKubeApiserver();
    running = { kube, ...kubeClients(kube.kubeconfig) };
  });
  after(async () => {
    await running?.kube.stop();
  });
  return {
    get kube() {
      return get().kube;
    },
    get core() {
      return get().core;
    },
    get discovery() {
      return get().discovery;
    },
  };
}

/** One endpoint of a slice: ready unless `ready` is false; `pod` names the Pod it targets. */
export interface SliceEndpoint {
  readonly address: string;
  readonly ready?: boolean;
  readonly zone?: string;
  readonly pod?: string;
}

/** Options of {@link createService}. */
export interface ServiceOptions {
  /** The Service's Pod selector; default none. */
  readonly selector?: Record<string, string>;
  /** The EndpointSlice's name; default `NAME-1`. */
  readonly sliceName?: string;
}

/** API clients of the apiserver a kubeconfig file names. */
export function kubeClients(kubeconfig: string): KubeClients {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfig);
  return { core: config.makeApiClient(CoreV1Api), discovery: config.makeApiClient(DiscoveryV1Api) };
}

/** The endpoints of a slice, on port 9080 (`http-web`). */
function sliceEndpoints(endpoints: readonly SliceEndpoint[]): V1EndpointSlice['endpoints'] {
  return endpoints.map(({ address, ready, zone, pod }) => ({
    addresses: [address],
    conditions: { ready: ready ?? true },
    ...(zone === undefined ? {} : { zone }),
    ...(pod === undefined ? {} : { targetRef: { kind: 'Pod', namespace: 'default', name: pod } }),
  }));
}

/**
 * A Service `name` in `default` (port 8080 named `http-web`, target 9080) and one EndpointSlice of it with
 * `endpoints` on port 9080.
 */
export async function createService(
  { core, discovery }: KubeClients,
  name: string,
  endpoints: readonly SliceEndpoint[],
  options: ServiceOptions = {},
): Promise<void> {
  await core.createNamespacedService({
    namespace: 'default',
    body: {
      metadata: { name },
      spec: {
        ports: [{ name: 'http-web', port: 8080, targetPort: 9080 }],
        ...(options.selector === undefined ? {} : { selector: options.selector }),
      },
    },
  });
  await discovery.createNamespacedEndpointSlice({
    namespace: 'default',
    body: {
      metadata: {
        name: options.sliceName ?? `${name}-1`,
        namespace: 'default',
        labels: { 'kubernetes.io/service-name': name },
      },
      addressType: 'IPv4',
      ports: [{ name: 'http-web', port: 9080, protocol: 'TCP' }],
      endpoints: sliceEndpoints(endpoints),
    },
  });
}

/** Replaces the endpoints of the EndpointSlice `sliceName` through `discovery` (any apiserver of the cluster). */
export async function setSliceEndpoints(
  discovery: DiscoveryV1Api,
  sliceName: string,
  endpoints: readonly SliceEndpoint[],
): Promise<void> {
  const current = await discovery.readNamespacedEndpointSlice({ name: sliceName, namespace: 'default' });
  await discovery.replaceNamespacedEndpointSlice({
    name: sliceName,
    namespace: 'default',
    body: { ...current, endpoints: sliceEndpoints(endpoints) },
  });
}

/** A Service `name` in `default` whose annotation makes its JSON about 150 KB (annotations may hold 256 KiB). */
export function bigService(name: string): V1Service {
  return {
    metadata: { name, annotations: { 'example.com/padding': 'x'.repeat(150_000) } },
    spec: { ports: [{ name: 'http-web', port: 8080, targetPort: 9080 }] },
  };
}

/** Ready endpoints at `addresses`. */
export function ready(addresses: readonly string[]): SliceEndpoint[] {
  return addresses.map((address) => ({ address }));
}

/** Stops the apiserver and waits until the registry says it is stale (its services stay). */
export async function cutOff(
  apiserver: { stopApiserver(): Promise<void> },
  registry: KubernetesRegistry,
): Promise<void> {
  await apiserver.stopApiserver();
  await until(
    registry,
    () => registry.status().stale,
    'the registry to notice kube-apiserver is gone',
    60_000,
  );
}

/** A {@link KubernetesRegistry} started behind its own {@link SilentProxy}, and how to stop both. */
export interface ProxiedRegistry {
  readonly proxy: SilentProxy;
  readonly registry: KubernetesRegistry;
  /** Stops the registry, then the proxy. */
  stop(): Promise<void>;
}

/**
 * Starts a proxy in front of the fixture's apiserver (`rewrite` may change list answers, see kube-proxy.ts), calls
 * `setup` with it, and starts a registry with `options` through it.
 */
export async function proxiedRegistry(
  k8s: KubeFixture,
  options: KubernetesRegistryOptions,
  rewrite?: (path: string, body: Buffer) => Buffer,
  setup?: (proxy: SilentProxy) => void,
): Promise<ProxiedRegistry> {
  const proxy = await startSilentProxy(k8s.kube.url, k8s.kube.kubeconfig, rewrite);
  setup?.(proxy);
  const registry = new KubernetesRegistry(proxy.kubeconfig, options);
  registry.start();
  return {
    proxy,
    registry,
    stop: async () => {
      await registry.stop();
      await proxy.close();
    },
  };
}
