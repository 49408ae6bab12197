/**
 * The soak scenario's difficult clients, in a process of their own (forked by scenarios/soak.ts): the same
 * Envoy-like SotW clients as the load workers (load-client.ts), but some read slowly (their call is paused and
 * read in short bursts, so that the server meets flow control all the time) and some reconnect again and again
 * (cancel the stream, sometimes the whole connection, and open a new one that asks for everything again), and some
 * stop reading at times for longer than the server's drain timeout (rule S12: the server ends them; they open their
 * stream again, as Envoy would).
 */
import { Client, type ClientDuplexStream, credentials } from '@grpc/grpc-js';
import { nowMs, sleep } from './clock.js';
import { ClientPool, SotwClient } from './load-client.js';
import { encodeNode } from './wire.js';

const path = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';
const identity = (bytes: Buffer) => bytes;
const channelOptions = { 'grpc.use_local_subchannel_pool': 1, 'grpc.max_receive_message_length': -1 };

/** What the driver asks. */
export type SoakCommand =
  | {
      readonly cmd: 'start';
      readonly id: number;
      readonly target: string;
      readonly node: string;
      readonly slow: number;
      readonly reconnecting: number;
      /** A slow client reads for `burstMs` every `periodMs`. */
      readonly periodMs: number;
      readonly burstMs: number;
      /** A reconnecting client reconnects every `reconnectMs` (± half). */
      readonly reconnectMs: number;
      /** Clients that read at full speed but stop reading for `stallMs` every `stallEveryMs` (± half). */
      readonly stalling: number;
      readonly stallEveryMs: number;
      readonly stallMs: number;
    }
  | { readonly cmd: 'calm'; readonly id: number }
  | { readonly cmd: 'converged'; readonly id: number; readonly version: number; readonly timeoutMs: number }
  | { readonly cmd: 'counters'; readonly id: number }
  /** The EDS ACKs logged since the last `log` (which clears it). */
  | { readonly cmd: 'log'; readonly id: number }
  | { readonly cmd: 'close'; readonly id: number };

/** The worker's counters. */
export interface SoakCounters {
  readonly responses: number;
  readonly bytes: number;
  readonly reconnects: number;
  /** Streams opened again after the server ended them. */
  readonly reopened: number;
  /** Streams the server ended for not reading (RESOURCE_EXHAUSTED, rule S12), by the client's class. */
  readonly drainEnded: Readonly<Record<ClientClass, number>>;
  /** Stalls the stalling clients began. */
  readonly stalls: number;
  /** Errors other than those drain-timeout ends. */
  readonly errors: number;
  readonly lastError: string;
}

/** EDS ACKs since the last `log` command: the version ACKed and when (driver-comparable clock). */
export interface SoakAckLog {
  readonly version: number[];
  readonly at: number[];
}

/** What a difficult client does. */
export type ClientClass = 'slow' | 'reconnecting' | 'stalling';

/** gRPC's RESOURCE_EXHAUSTED: how a client reads the server's RST_STREAM ENHANCE_YOUR_CALM of a drain timeout. */
const resourceExhausted = 8;

let pool = new ClientPool(0, nowMs);
let target = '';
let node: Uint8Array = new Uint8Array();
const channels: Client[] = [];
const calls: (ClientDuplexStream<Buffer, Buffer> | undefined)[] = [];
/** The read-burst timers of slow clients, and the next-reconnect timer of each reconnecting one. */
const slowTimers: NodeJS.Timeout[] = [];
const reconnectTimers = new Map<number, NodeJS.Timeout>();
/** The next-stall (or end-of-stall) timer of each stalling client. */
const stallTimers = new Map<number, NodeJS.Timeout>();
const classes: ClientClass[] = [];
let reconnects = 0;
/** Streams opened again after the server ended them. */
let reopened = 0;
const drainEnded: Record<ClientClass, number> = { slow: 0, reconnecting: 0, stalling: 0 };
let stalls = 0;
let closing = false;

/** Opens (or reopens) client `index`'s stream on `channel`, reading slowly when `slow`. */
function open(index: number, channel: Client, slow: { periodMs: number; burstMs: number } | undefined): void {
  const call = channel.makeBidiStreamRequest(path, identity, identity);
  const client = new SotwClient(pool, index, call, node);
  call.on('data', (bytes: Buffer) => {
    try {
      client.onData(bytes);
    } catch (error) {
      pool.errors++;
      pool.lastError = error instanceof Error ? error.message : String(error);
    }
  });
  call.on('error', (error: Error & { code?: number }) => {
    if (closing || calls[index] !== call) return;
    if (error.code === resourceExhausted) drainEnded[classes[index]!]++;
    else {
      pool.errors++;
      pool.lastError = error.message;
    }
    // As Envoy does: a stream the server ended (a slow reader past the drain timeout) is opened again.
    calls[index] = undefined;
    setTimeout(() => {
      if (closing || calls[index] !== undefined) return;
      reopened++;
      open(index, channels[index]!, slow);
    }, 1000).unref();
  });
  call.on('end', () => {});
  if (slow !== undefined) {
    call.pause();
    const timer = setInterval(() => {
      if (calls[index] !== call) return clearInterval(timer);
      call.resume();
      setTimeout(() => call.pause(), slow.burstMs).unref();
    }, slow.periodMs);
    slowTimers.push(timer);
  }
  calls[index] = call;
  client.start();
}

function start(command: Extract<SoakCommand, { cmd: 'start' }>): void {
  closing = false;
  target = command.target;
  node = encodeNode(command.node);
  const total = command.slow + command.reconnecting + command.stalling;
  pool = new ClientPool(total, nowMs);
  const connect = () => new Client(target, credentials.createInsecure(), channelOptions);
  for (let index = 0; index < total; index++) {
    // Every client has its own connection: a slow reader's window is its own, a reconnect can drop it.
    channels[index] = connect();
    const slow = index < command.slow;
    classes[index] = slow ? 'slow' : index < command.slow + command.stalling ? 'stalling' : 'reconnecting';
    open(index, channels[index]!, slow ? command : undefined);
    if (slow) continue;
    if (classes[index] === 'stalling') {
      stallAtTimes(index, command, true);
      continue;
    }
    let times = 0;
    const again = () => {
      const timer = setTimeout(
        () => {
          if (closing) return;
          reconnects++;
          times++;
          const old = calls[index];
          calls[index] = undefined;
          old?.cancel();
          // Every fourth time the whole connection goes too.
          if (times % 4 === 0) {
            channels[index]!.close();
            channels[index] = connect();
          }
          open(index, channels[index]!, undefined);
          again();
        },
        command.reconnectMs * (0.5 + Math.random()),
      );
      reconnectTimers.set(index, timer);
    };
    again();
  }
}

/**
 * Client `index` stops reading for `stallMs` every `stallEveryMs` (± half; the `first` time within 5-60 s), then
 * reads on; when the server ended its stream meanwhile (drain timeout), the error handler has opened a new one.
 */
function stallAtTimes(index: number, command: Extract<SoakCommand, { cmd: 'start' }>, first = false): void {
  const next = setTimeout(
    () => {
      if (closing) return;
      stalls++;
      calls[index]?.pause();
      const resume = setTimeout(() => {
        calls[index]?.resume();
        stallAtTimes(index, command);
      }, command.stallMs);
      stallTimers.set(index, resume);
    },
    first ? 5000 + Math.random() * 55_000 : command.stallEveryMs * (0.5 + Math.random()),
  );
  stallTimers.set(index, next);
}

/**
 * Stops reconnecting and stalling and reads every slow client at full speed: the state the end figures are taken
 * in.
 */
function calm(): void {
  for (const timer of slowTimers.splice(0)) clearInterval(timer);
  for (const timer of reconnectTimers.values()) clearTimeout(timer);
  reconnectTimers.clear();
  for (const timer of stallTimers.values()) clearTimeout(timer);
  stallTimers.clear();
  for (const call of calls) call?.resume();
}

/** Waits until every client has ACKed EDS at `version` or later. */
async function converged(version: number, timeoutMs: number): Promise<{ ok: boolean; missing: number }> {
  const deadline = nowMs() + timeoutMs;
  for (;;) {
    let missing = 0;
    for (let c = 0; c < pool.size; c++) if (pool.lastAck[c * 4 + 1]! < version) missing++;
    if (missing === 0 || nowMs() > deadline) return { ok: missing === 0, missing };
    await sleep(50);
  }
}

/** The EDS ACKs logged since the last call; clears the log (which would otherwise grow for the whole soak). */
function takeLog(): SoakAckLog {
  const out: SoakAckLog = { version: [], at: [] };
  const log = pool.log;
  for (let i = 0; i < log.length; i++) {
    if (log.type[i] !== 1) continue;
    out.version.push(log.version[i]!);
    out.at.push(log.at[i]!);
  }
  log.length = 0;
  return out;
}

async function close(): Promise<void> {
  closing = true;
  calm();
  for (const call of calls) call?.cancel();
  for (const channel of channels) channel.close();
  calls.length = 0;
  channels.length = 0;
  await sleep(50);
}

async function run(command: SoakCommand): Promise<unknown> {
  switch (command.cmd) {
    case 'start':
      return start(command);
    case 'calm':
      return calm();
    case 'converged':
      return converged(command.version, command.timeoutMs);
    case 'counters':
      return {
        responses: pool.responses,
        bytes: pool.bytes,
        reconnects,
        reopened,
        drainEnded: { ...drainEnded },
        stalls,
        errors: pool.errors,
        lastError: pool.lastError,
      } satisfies SoakCounters;
    case 'log':
      return takeLog();
    case 'close':
      return close();
  }
}

process.on('message', (command: SoakCommand) => {
  run(command).then(
    (value) => process.send?.({ id: command.id, ok: true, value }),
    (error: unknown) => process.send?.({ id: command.id, ok: false, error: String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send?.({ id: 0, ok: true, value: 'ready' });
