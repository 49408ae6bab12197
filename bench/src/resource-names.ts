/**
 * What an Envoy-like client needs from CDS and LDS resources, read from the wire: the EDS service name of each
 * Cluster and the RDS route names of each Listener. Field numbers are the ones in Envoy's v3 protos.
 */
import { FieldReader } from './wire.js';

const anyReader = new FieldReader();
const outer = new FieldReader();
const inner = new FieldReader();
const deeper = new FieldReader();
const hcmAny = new FieldReader();
const hcm = new FieldReader();
const rds = new FieldReader();

/** The `value` of the `google.protobuf.Any` in buf[start, stop), as [start, stop); [0, 0] when absent. */
function anyValue(reader: FieldReader, buf: Buffer, start: number, stop: number): [number, number] {
  reader.reset(buf, start, stop);
  while (reader.next()) if (reader.field === 2 && reader.wire === 2) return [reader.start, reader.stop];
  return [0, 0];
}

/** `Cluster { name = 1, eds_cluster_config = 3 { service_name = 2 } }` in an Any: [cluster name, EDS name]. */
export function clusterNames(buf: Buffer, start: number, stop: number): [string, string] {
  const [from, to] = anyValue(anyReader, buf, start, stop);
  let name = '';
  let service = '';
  outer.reset(buf, from, to);
  while (outer.next()) {
    if (outer.wire !== 2) continue;
    if (outer.field === 1) name = outer.string();
    else if (outer.field === 3) {
      inner.reset(buf, outer.start, outer.stop);
      while (inner.next()) if (inner.field === 2 && inner.wire === 2) service = inner.string();
    }
  }
  return [name, service === '' ? name : service];
}

/** `HttpConnectionManager { rds = 3 { route_config_name = 2 } }` inside an Any at buf[start, stop). */
function hcmRouteName(buf: Buffer, start: number, stop: number, out: string[]): void {
  const [from, to] = anyValue(hcmAny, buf, start, stop);
  hcm.reset(buf, from, to);
  while (hcm.next()) {
    if (hcm.field !== 3 || hcm.wire !== 2) continue;
    rds.reset(buf, hcm.start, hcm.stop);
    while (rds.next()) if (rds.field === 2 && rds.wire === 2) out.push(rds.string());
  }
}

/**
 * `Listener { name = 1, filter_chains = 3 { filters = 3 { typed_config = 4 } }, api_listener = 19
 * { api_listener = 1 } }` in an Any: the listener name, and its RDS route names appended to `routes`.
 */
export function listenerNames(buf: Buffer, start: number, stop: number, routes: string[]): string {
  const [from, to] = anyValue(anyReader, buf, start, stop);
  let name = '';
  outer.reset(buf, from, to);
  while (outer.next()) {
    if (outer.wire !== 2) continue;
    if (outer.field === 1) name = outer.string();
    else if (outer.field === 3) {
      inner.reset(buf, outer.start, outer.stop);
      while (inner.next()) {
        if (inner.field !== 3 || inner.wire !== 2) continue;
        deeper.reset(buf, inner.start, inner.stop);
        while (deeper.next())
          if (deeper.field === 4 && deeper.wire === 2) hcmRouteName(buf, deeper.start, deeper.stop, routes);
      }
    } else if (outer.field === 19) {
      inner.reset(buf, outer.start, outer.stop);
      while (inner.next())
        if (inner.field === 1 && inner.wire === 2) hcmRouteName(buf, inner.start, inner.stop, routes);
    }
  }
  return name;
}
