/**
 * Unfinished request messages against a real server (rule L2, issue 10): a server in a child process
 * (partial-requests-peer.ts), a bystander `XdsTestClient`, and raw HTTP/2 streams that each announce a message of
 * `--mib` MiB (16, `maxRequestBytes`) and send all of it but `--short-kib` KiB (100), on `--streams` connections
 * (64), one stream each. It prints the server's RSS before and while they hold their messages, how many streams the
 * server refused and for which limit, the partial-request budget's account, and the bystander's push latency
 * (snapshot set to response received, 5 pushes) before and during. `--off` raises the partial-request limits to
 * 2^31-1; `--server PATH` runs another build of `@xds/server` in the child (the commit before them, say). The
 * first-request timeout is 10 min, so that no stream still sending on a busy machine is ended by it.
 *
 *   npx tsx bench/src/partial-requests.ts [--off] [--streams 64] [--mib 16] [--short-kib 100] [--server PATH]
 */
import { fork } from 'node:child_process';
import { type ClientHttp2Stream, connect } from 'node:http2';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { TypeUrl } from '@xds/api';
import { XdsTestClient } from '@xds/testing';

const { values } = parseArgs({
  options: {
    off: { type: 'boolean', default: false },
    streams: { type: 'string', default: '64' },
    mib: { type: 'string', default: '16' },
    'short-kib': { type: 'string', default: '100' },
    server: { type: 'string' },
  },
});
const streams = Number(values.streams);
const announced = Number(values.mib) * 1024 * 1024;
const sent = announced - Number(values['short-kib']) * 1024;
// The first-request timeout (30 s) would end streams still sending on a busy machine: 10 min here.
const limits = {
  firstRequestTimeoutMs: 600_000,
  ...(values.off
    ? { maxPartialRequestBytesTotal: 2 ** 31 - 1, maxPartialRequestBytesPerConnection: 2 ** 31 - 1 }
    : {}),
};

const child = fork(
  join(import.meta.dirname, 'partial-requests-peer.ts'),
  [JSON.stringify(limits), ...(values.server === undefined ? [] : [values.server])],
  { execArgv: ['--import', 'tsx', '--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
);
type Reply = { port?: number; rss?: number; stats?: unknown; endedByLimit?: unknown };
const replies: Reply[] = [];
let waiter: (() => void) | undefined;
child.on('message', (m: Reply) => {
  replies.push(m);
  waiter?.();
});
async function reply(): Promise<Reply> {
  while (replies.length === 0) await new Promise<void>((resolve) => (waiter = resolve));
  return replies.shift()!;
}
const port = (await reply()).port!;
const address = `127.0.0.1:${port}`;

const bystander = new XdsTestClient({ address, node: 'bystander', timeoutMs: 120_000 });
bystander.subscribe(TypeUrl.Endpoint, ['c1']);
await bystander.next(TypeUrl.Endpoint);
let pushPort = 2000;

/** Median ms from a push to the bystander's response, over `count` pushes. */
async function pushLatency(count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const next = bystander.next(TypeUrl.Endpoint);
    child.send({ cmd: 'push', port: pushPort++ });
    await next;
    times.push(Math.round(performance.now() - started));
  }
  return times;
}

async function rss(): Promise<Reply> {
  child.send({ cmd: 'rss' });
  return reply();
}

const mib = (bytes: number) => Math.round(bytes / 1024 / 102.4) / 10;
const before = await rss();
const quiet = await pushLatency(5);

/** One raw stream announcing `announced` bytes and sending `sent` of them; resolves when written or ended. */
function hold(): { stream: ClientHttp2Stream; done: Promise<string> } {
  const session = connect(`http://${address}`);
  session.on('error', () => {});
  const stream = session.request({
    ':method': 'POST',
    ':path': '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
    'content-type': 'application/grpc',
    te: 'trailers',
  });
  stream.on('error', () => {});
  const done = new Promise<string>((resolve) => {
    let ended = false;
    stream.on('trailers', (t) => {
      ended = true;
      resolve(`refused: ${decodeURIComponent(String(t['grpc-message'] ?? t['grpc-status']))}`);
    });
    stream.on('response', (h) => {
      if (h['grpc-status'] !== undefined) {
        ended = true;
        resolve(`refused: ${decodeURIComponent(String(h['grpc-message'] ?? h['grpc-status']))}`);
      }
    });
    stream.on('close', () => resolve('closed'));
    const head = Buffer.alloc(5);
    head.writeUInt32BE(announced, 1);
    stream.write(head);
    const chunk = Buffer.alloc(64 * 1024, 0x0a);
    let left = sent;
    const pump = () => {
      while (left > 0 && !ended) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!stream.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          stream.once('drain', pump);
          return;
        }
      }
      if (left === 0) resolve('held');
    };
    pump();
  });
  return { stream, done };
}

const started = performance.now();
const held = Array.from({ length: streams }, hold);
const outcomes = await Promise.all(held.map((h) => h.done));
const sendMs = Math.round(performance.now() - started);
// Let the server take in what is on the wire.
await new Promise((resolve) => setTimeout(resolve, 2000));
const during = await rss();
const busy = await pushLatency(5);
const counts = new Map<string, number>();
for (const o of outcomes) {
  const key = o.replace(/\d+ held, this message announces \d+/, 'N held');
  counts.set(key, (counts.get(key) ?? 0) + 1);
}
console.log(
  JSON.stringify(
    {
      mode: values.server ?? (values.off ? 'limits off' : 'default limits'),
      streams,
      announcedMiB: mib(announced),
      sentMiB: mib(sent),
      sendMs,
      rssBeforeMiB: mib(before.rss!),
      rssHoldingMiB: mib(during.rss!),
      outcomes: Object.fromEntries(counts),
      budget: during.stats,
      endedByLimit: during.endedByLimit,
      pushMsQuiet: quiet,
      pushMsHolding: busy,
    },
    null,
    2,
  ),
);
for (const h of held) h.stream.close();
await bystander.close();
child.send({ cmd: 'exit' });
process.exit(0);
