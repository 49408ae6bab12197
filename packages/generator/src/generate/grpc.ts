import type { Message } from '@bufbuild/protobuf';
import type { Listener, RouteConfiguration } from '@xds/api';
import { makeApiListener } from '../builders/listener.js';
import { makeRouteConfiguration } from '../builders/route-configuration.js';
import type { RouteFields } from '../builders/route-fields.js';
import type { Service, ServiceModel } from '../model/types.js';
import { clusterPartsSteps } from './assignments.js';
import { type GenerateOptions, memoOwner, routeFieldsFor } from './generate-options.js';
import { defaultMemo, type ResourceMemo } from './memo.js';
import { clusterName, grpcDomains, hostPort, serviceHost } from './names.js';
import { routeSpecs } from './routes.js';
import { runSteps, type Steps } from './steps.js';

interface GrpcParts {
  readonly listeners: readonly Listener[];
  readonly routes: readonly RouteConfiguration[];
}

function grpcParts(service: Service, domain: string, fields: RouteFields, memo: ResourceMemo): GrpcParts {
  const config = { ...service, endpoints: [] };
  return memo.get('service-grpc', { domain, service: config, fields }, () => {
    const host = serviceHost(service, domain);
    const listeners: Listener[] = [];
    const routes: RouteConfiguration[] = [];
    for (const port of service.ports) {
      const routeName = clusterName(port.port, '', host);
      const listener = { name: hostPort(host, port.port), routeName };
      listeners.push(memo.get('api-listener', listener, () => makeApiListener(listener)));
      const spec = {
        name: routeName,
        virtualHosts: [
          {
            name: hostPort(host, port.port),
            domains: grpcDomains(service, domain, port.port),
            routes: routeSpecs(service, port.port, host, 'grpc'),
          },
        ],
      };
      routes.push(memo.get('grpc-route', { spec, fields }, () => makeRouteConfiguration(spec, { fields })));
    }
    return { listeners, routes };
  });
}

/**
 * The xDS resources for proxyless gRPC clients (`xds:///<fqdn>:<port>`), in the only shapes they accept:
 * - per service port, a Listener `<fqdn>:<port>` with an `api_listener` connection manager that takes
 *   RouteConfiguration `outbound|<port>||<fqdn>` by RDS over ADS, router filter last;
 * - that RouteConfiguration, with one virtual host whose domains are the `host:port` forms of the service, in the
 *   route fields every gRPC client reads (`options.routeFields.grpc`, default `'compatible'`: legacy header
 *   matcher fields, `total_weight` set to the sum of the weights);
 * - the same EDS clusters (ROUND_ROBIN) and ClusterLoadAssignments as {@link generateEnvoy}: IP literals with
 *   port values, every locality set and weighted, priorities without gaps.
 */
export function generateGrpc(model: ServiceModel, options: GenerateOptions = {}): Message[] {
  const memo = options.memo ?? defaultMemo;
  const fields = routeFieldsFor(options, 'grpc');
  return memo.generation(memoOwner(options), () => runSteps(grpcSteps(model, fields, memo)));
}

/** {@link generateGrpc}'s work in steps: one per cluster (see `clusterPartsSteps`) and per service. */
export function* grpcSteps(model: ServiceModel, fields: RouteFields, memo: ResourceMemo): Steps<Message[]> {
  const clusters: Message[] = [];
  const assignments: Message[] = [];
  const listeners: Message[] = [];
  const routes: Message[] = [];
  for (const service of model.services) {
    const base = yield* clusterPartsSteps(service, model.domain, memo);
    clusters.push(...base.clusters);
    assignments.push(...base.assignments);
    const parts = grpcParts(service, model.domain, fields, memo);
    listeners.push(...parts.listeners);
    routes.push(...parts.routes);
    yield;
  }
  return [...clusters, ...assignments, ...listeners, ...routes];
}
