/**
 * A load worker process: holds a share of the bench clients on its own grpc-js channels and answers the
 * driver's commands (see load-protocol.ts). Started by load.ts with `child_process.fork`.
 */
import { Client, type ClientDuplexStream, credentials } from '@grpc/grpc-js';
import { nowMs, sleep } from './clock.js';
import { ClientPool, DeltaClient, SotwClient } from './load-client.js';
import type { LogReply, WaitReply, WorkerCommand, WorkerCounters, WorkerReply } from './load-protocol.js';
import { encodeNode } from './wire.js';

const service = '/envoy.service.discovery.v3.AggregatedDiscoveryService';
const identity = (bytes: Buffer) => bytes;
const channelOptions = {
  // One connection per channel: channels must not share a subchannel (and so a connection).
  'grpc.use_local_subchannel_pool': 1,
  'grpc.max_receive_message_length': -1,
  'grpc.max_send_message_length': -1,
  // Envoy-like large windows, so that loopback transfers are not window-bound.
  'grpc-node.flow_control_window': 16 * 1024 * 1024,
};

let pool = new ClientPool(0, nowMs);
let channels: Client[] = [];
let calls: ClientDuplexStream<Buffer, Buffer>[] = [];
let closing = false;

function connect(command: Extract<WorkerCommand, { cmd: 'connect' }>): number {
  closing = false;
  pool = new ClientPool(command.nodes.length, nowMs);
  pool.nackVersions = new Set(command.nack);
  const targets = command.targets.length > 0 ? command.targets : [command.target];
  channels = Array.from(
    { length: Math.max(1, command.channels) },
    (_, i) => new Client(targets[i % targets.length]!, credentials.createInsecure(), channelOptions),
  );
  const path = `${service}/${command.mode === 'delta' ? 'DeltaAggregatedResources' : 'StreamAggregatedResources'}`;
  const start = nowMs();
  for (const [index, nodeId] of command.nodes.entries()) {
    const channel = channels[index % channels.length]!;
    const call = channel.makeBidiStreamRequest(path, identity, identity);
    const node = encodeNode(nodeId);
    const client =
      command.mode === 'delta'
        ? new DeltaClient(pool, index, call, node)
        : new SotwClient(pool, index, call, node);
    call.on('data', (bytes: Buffer) => {
      try {
        client.onData(bytes);
      } catch (error) {
        pool.errors++;
        pool.lastError = error instanceof Error ? error.message : String(error);
      }
    });
    call.on('error', (error: Error) => {
      if (closing) return;
      pool.errors++;
      pool.lastError = error.message;
      pool.dead[index] = 1;
    });
    call.on('end', () => {});
    client.start();
    calls.push(call);
  }
  return start;
}

async function wait(command: Extract<WorkerCommand, { cmd: 'wait' }>): Promise<WaitReply> {
  const answers = command.kind === 'ack' ? pool.lastAck : pool.lastNack;
  const deadline = nowMs() + command.timeoutMs;
  for (;;) {
    let missing = 0;
    let dead = 0;
    for (let c = 0; c < pool.size; c++) {
      for (const t of command.types) {
        if (answers[c * 4 + t]! < command.version) {
          missing++;
          dead += pool.dead[c]!;
          break;
        }
      }
    }
    if (missing === 0) return { ok: true, missing };
    // Clients whose stream died will never answer: give up as soon as only they are missing.
    if (missing === dead || nowMs() > deadline) return { ok: false, missing };
    await sleep(10);
  }
}

function log(clear: boolean): LogReply {
  const { length, client, type, version, at } = pool.log;
  const reply = {
    client: client.slice(0, length),
    type: type.slice(0, length),
    version: version.slice(0, length),
    at: at.slice(0, length),
  };
  if (clear) pool.log.length = 0;
  return reply;
}

function counters(): WorkerCounters {
  const cpu = process.cpuUsage();
  return {
    responses: pool.responses,
    bytes: pool.bytes,
    errors: pool.errors,
    lastError: pool.lastError,
    cpuUserMs: cpu.user / 1000,
    cpuSysMs: cpu.system / 1000,
    rssBytes: process.memoryUsage.rss(),
  };
}

async function close(): Promise<void> {
  closing = true;
  for (const call of calls) call.cancel();
  for (const channel of channels) channel.close();
  calls = [];
  channels = [];
  pool = new ClientPool(0, nowMs);
  await sleep(50);
}

async function run(command: WorkerCommand): Promise<unknown> {
  switch (command.cmd) {
    case 'connect':
      return connect(command);
    case 'wait':
      return wait(command);
    case 'log':
      return log(command.clear);
    case 'counters':
      return counters();
    case 'close':
      return close();
  }
}

process.on('message', (command: WorkerCommand) => {
  run(command).then(
    (value) => process.send?.({ id: command.id, ok: true, value } satisfies WorkerReply),
    (error: unknown) =>
      process.send?.({
        id: command.id,
        ok: false,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      } satisfies WorkerReply),
  );
});
process.on('disconnect', () => process.exit(0));
process.send?.({ id: 0, ok: true, value: 'ready' } satisfies WorkerReply);
