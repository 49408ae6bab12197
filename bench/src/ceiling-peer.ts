/**
 * The child process of the physical-ceiling measurements (see ceiling.ts), started with `fork`:
 * - `tcp PORT MS`: connects to 127.0.0.1:PORT and writes one 4 MiB buffer over and over for MS milliseconds;
 * - `grpc PAYLOAD [CHANGED]`: a grpc-js server with no xDS logic that answers the first request of each type on
 *   every ADS stream with the same pre-encoded DiscoveryResponse (version v1), built once from a records file, and
 *   ignores every other request; told `push`, it writes the v2 response of every type to every stream; told
 *   `push-eds`, it writes to every stream one v2 ClusterLoadAssignment response holding only the assignments of
 *   the CHANGED records file that differ from PAYLOAD's (scenario 1's 1% change, the bytes our server sends for
 *   it). It sends `{ xds }` when listening and `{ cpuMs }` in answer to every message.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { Server, ServerCredentials, type ServerDuplexStream } from '@grpc/grpc-js';
import { decodeRecords } from './records.js';
import { FieldReader } from './wire.js';

function tcp(port: number, ms: number): void {
  const chunk = Buffer.alloc(4 * 1024 * 1024, 7);
  const socket = connect(port, '127.0.0.1');
  const end = Date.now() + ms;
  const pump = () => {
    while (Date.now() < end) if (!socket.write(chunk)) return;
    socket.end(() => process.exit(0));
  };
  socket.on('connect', pump);
  socket.on('drain', pump);
  socket.on('error', () => process.exit(1));
}

const endpointType = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';

/** A records file's Any messages by type URL, in file order. */
function recordsByType(path: string): Map<string, Uint8Array[]> {
  const byType = new Map<string, Uint8Array[]>();
  const reader = new FieldReader();
  for (const record of decodeRecords(readFileSync(path))) {
    const buf = Buffer.from(record.buffer, record.byteOffset, record.byteLength);
    reader.reset(buf);
    let typeUrl = '';
    while (reader.next()) if (reader.field === 1) typeUrl = reader.string();
    const list = byType.get(typeUrl) ?? [];
    list.push(record);
    byType.set(typeUrl, list);
  }
  return byType;
}

/** `DiscoveryResponse { version_info = 1, resources = 2, type_url = 4, nonce = 5 }`. */
function response(typeUrl: string, records: readonly Uint8Array[], version: number): Buffer {
  const writer = new BinaryWriter().tag(1, WireType.LengthDelimited).string(`v${version}`);
  for (const record of records) writer.tag(2, WireType.LengthDelimited).bytes(record);
  writer.tag(4, WireType.LengthDelimited).string(typeUrl);
  writer.tag(5, WireType.LengthDelimited).string(String(version));
  return Buffer.from(writer.finish());
}

/** One DiscoveryResponse per type. */
function responses(byType: Map<string, Uint8Array[]>, version: number): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [typeUrl, records] of byType) out.set(typeUrl, response(typeUrl, records, version));
  return out;
}

/** The v2 endpoint response of the assignments that `changedPath` changed (same order as the payload's). */
function changedEndpoints(
  byType: Map<string, Uint8Array[]>,
  changedPath: string | undefined,
): Buffer | undefined {
  if (changedPath === undefined) return undefined;
  const before = byType.get(endpointType) ?? [];
  const after = recordsByType(changedPath).get(endpointType) ?? [];
  const changed = after.filter(
    (record, i) => before[i] === undefined || Buffer.compare(record, before[i]!) !== 0,
  );
  return response(endpointType, changed, 2);
}

function grpc(path: string, changedPath: string | undefined): void {
  const byType = recordsByType(path);
  const first = responses(byType, 1);
  const second = responses(byType, 2);
  const endpoints = changedEndpoints(byType, changedPath);
  const streams = new Map<ServerDuplexStream<Buffer, Buffer>, string[]>();
  const identity = (bytes: Buffer) => bytes;
  const server = new Server({
    'grpc.max_concurrent_streams': 100_000,
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    'grpc.max_send_message_length': 64 * 1024 * 1024,
  });
  const method = {
    path: '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
    requestStream: true,
    responseStream: true,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  };
  const reader = new FieldReader();
  server.addService({ StreamAggregatedResources: method } as never, {
    StreamAggregatedResources: (call: ServerDuplexStream<Buffer, Buffer>) => {
      const types: string[] = [];
      streams.set(call, types);
      call.on('data', (request: Buffer) => {
        // DiscoveryRequest { type_url = 4, response_nonce = 5 }: answer only initial requests.
        let typeUrl = '';
        let nonce = '';
        reader.reset(request);
        while (reader.next()) {
          if (reader.field === 4) typeUrl = reader.string();
          else if (reader.field === 5) nonce = reader.string();
        }
        const response = first.get(typeUrl);
        if (nonce !== '' || response === undefined) return;
        types.push(typeUrl);
        call.write(response);
      });
      call.on('error', () => streams.delete(call));
      call.on('cancelled', () => streams.delete(call));
      call.on('end', () => {
        streams.delete(call);
        call.end();
      });
    },
  });
  server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) => {
    if (error) throw error;
    process.send?.({ xds: `127.0.0.1:${port}` });
  });
  // 'push': write the v2 response of every type each stream asked for; 'push-eds': the changed assignments to
  // every stream that asked for endpoints; any message: report CPU.
  process.on('message', (message) => {
    if (message === 'push')
      for (const [call, types] of streams) for (const typeUrl of types) call.write(second.get(typeUrl)!);
    if (message === 'push-eds' && endpoints !== undefined)
      for (const [call, types] of streams) if (types.includes(endpointType)) call.write(endpoints);
    const cpu = process.cpuUsage();
    process.send?.({ cpuMs: (cpu.user + cpu.system) / 1000 });
  });
}

const [mode, arg, extra] = process.argv.slice(2);
if (mode === 'tcp') tcp(Number(arg), Number(extra));
else if (mode === 'grpc') grpc(arg!, extra);
else throw new Error(`ceiling-peer: unknown mode ${mode}`);
process.on('disconnect', () => process.exit(0));
