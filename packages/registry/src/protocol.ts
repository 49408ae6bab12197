/**
 * Port protocols from what registries say: a `protocol` value in metadata (Consul service-defaults' `http`, `http2`,
 * `grpc`, `tcp`), Kubernetes' `appProtocol`, or Istio's port-name prefix. Unknown values fall back to TCP, the
 * protocol every registry assumes when it says nothing.
 */
import { inferProtocol, type Protocol, protocols } from '@xds/generator';

const byLowerName = new Map<string, Protocol>(protocols.map((p) => [p.toLowerCase(), p]));
byLowerName.set('h2c', 'HTTP2');
byLowerName.set('kubernetes.io/h2c', 'HTTP2');
byLowerName.set('kubernetes.io/ws', 'HTTP');

/** The protocol a metadata value or `appProtocol` names (`http`, `HTTP2`, `grpc`, `kubernetes.io/h2c`), if any. */
export function protocolFromValue(value: string | undefined): Protocol | undefined {
  if (value === undefined || value === '') return undefined;
  return byLowerName.get(value.toLowerCase());
}

/** The protocol from an explicit value, else the port name's prefix (`http-web`), else TCP. */
export function portProtocol(value: string | undefined, portName: string | undefined): Protocol {
  return protocolFromValue(value) ?? inferProtocol(portName);
}

/** The generator's default port name: `<protocol in lower case>-<number>`. */
export function defaultPortName(protocol: Protocol, port: number): string {
  return `${protocol.toLowerCase()}-${port}`;
}

/** A port number from metadata text (`"8080"`), or undefined when it is not one in 1..65535. */
export function portFromText(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}
