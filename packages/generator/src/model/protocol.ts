/** The protocols a service port may speak. */
export const protocols = ['HTTP', 'HTTP2', 'GRPC', 'HTTPS', 'TLS', 'TCP', 'UDP', 'Mongo', 'Redis'] as const;

/** A service port's protocol. */
export type Protocol = (typeof protocols)[number];

/** Protocols served through an HTTP connection manager (routes, virtual hosts). */
export function isHttpProtocol(protocol: Protocol): boolean {
  return protocol === 'HTTP' || protocol === 'HTTP2' || protocol === 'GRPC';
}

/** Protocols whose upstream connections speak HTTP/2. */
export function isHttp2Protocol(protocol: Protocol): boolean {
  return protocol === 'HTTP2' || protocol === 'GRPC';
}

/** Protocols an Envoy sidecar proxies as opaque TCP (everything but HTTP and UDP). */
export function isTcpProtocol(protocol: Protocol): boolean {
  return !isHttpProtocol(protocol) && protocol !== 'UDP';
}

const byPrefix = new Map<string, Protocol>(protocols.map((p) => [p.toLowerCase(), p]));

/**
 * The protocol of a port without an explicit one, from its name the way Istio reads port names: the part before
 * the first `-` (`http`, `http-web`, `grpc-api`, `redis`, …); TCP when the name says nothing.
 */
export function inferProtocol(portName: string | undefined): Protocol {
  if (portName === undefined) return 'TCP';
  const prefix = portName.toLowerCase().split('-', 1)[0] ?? '';
  return byPrefix.get(prefix) ?? 'TCP';
}
