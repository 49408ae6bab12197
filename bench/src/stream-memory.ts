/**
 * Server memory per xDS stream (rule L2, issue 10, findings Q11 and R6): a server in a child process (this file with
 * `--child`), and `--streams` raw HTTP/2 streams (10 per connection, 100 with `--header-only`) that each either send a first SotW request
 * whose node carries `--node-kib` KiB of metadata (Q11: what a stream keeps of its node; `--distinct` gives each
 * stream its own node bytes, else all streams of the node send the same ones) or, with `--header-only`, send headers
 * and nothing more (R6: a pending stream). It prints the server's V8 heap and RSS after a GC, before and with the
 * streams, and the difference per stream. `--server PATH` runs another build of `@xds/server` in the child (the
 * commit before a change, say).
 *
 *   node --import tsx bench/src/stream-memory.ts [--streams 200] [--node-kib 512] [--distinct] [--header-only]
 */
import { fork } from 'node:child_process';
import { type ClientHttp2Session, type ClientHttp2Stream, connect } from 'node:http2';
import { parseArgs } from 'node:util';
import { create, toBinary } from '@bufbuild/protobuf';
import { DiscoveryRequestSchema, TypeUrl } from '@xds/api';
import { Snapshot, SnapshotCache } from '@xds/cache';
import { makeCluster } from '@xds/generator';

type ServerModule = typeof import('@xds/server');
type Reply = { port?: number; heap?: number; rss?: number; open?: number; pending?: number };

const { values } = parseArgs({
  options: {
    child: { type: 'boolean', default: false },
    streams: { type: 'string', default: '200' },
    'node-kib': { type: 'string', default: '512' },
    distinct: { type: 'boolean', default: false },
    'header-only': { type: 'boolean', default: false },
    server: { type: 'string' },
  },
});

if (values.child) await child();
else await driver();

/** The server: answers `measure` with its heap and RSS after a GC and its stream counts. */
async function child(): Promise<void> {
  const { XdsServer } = (await import(values.server ?? '@xds/server')) as ServerModule;
  const cache = new SnapshotCache();
  const server = new XdsServer({
    cache,
    // Room for every stream of the run on its connections and its node; no stream ended by a deadline.
    limits: { maxStreamsPerNode: 1_000_000, firstRequestTimeoutMs: 600_000 },
  });
  cache.setSnapshot('n1', Snapshot.create([makeCluster({ name: 'c1' }) as never]));
  const port = await server.listen('127.0.0.1:0');
  const gc = (globalThis as { gc?: () => void }).gc!;
  process.on('message', (message: { cmd: string }) => {
    if (message.cmd === 'measure') {
      gc();
      gc();
      const usage = process.memoryUsage();
      process.send?.({
        heap: usage.heapUsed,
        rss: usage.rss,
        open: server.streamCount,
        pending: server.pendingStreams,
      });
    } else if (message.cmd === 'exit') void server.close().then(() => process.exit(0));
  });
  process.send?.({ port });
}

/** A first request of node n1 whose metadata holds about `kib` KiB in 200-byte strings; `salt` varies its bytes. */
function firstRequest(kib: number, salt: number): Buffer {
  const fields: Record<string, string> = {};
  const count = Math.ceil((kib * 1024) / 220);
  for (let i = 0; i < count; i++) fields[`key-${i}`] = `${salt}-${i}-`.padEnd(200, 'v');
  const bytes = toBinary(
    DiscoveryRequestSchema,
    create(DiscoveryRequestSchema, {
      node: { id: 'n1', cluster: 'bench', metadata: fields as never },
      typeUrl: TypeUrl.Cluster,
    }),
  );
  const frame = Buffer.alloc(5 + bytes.length);
  frame.writeUInt32BE(bytes.length, 1);
  frame.set(bytes, 5);
  return frame;
}

async function driver(): Promise<void> {
  const streams = Number(values.streams);
  const kib = Number(values['node-kib']);
  const headerOnly = values['header-only'];
  const proc = fork(
    import.meta.filename,
    ['--child', ...(values.server === undefined ? [] : ['--server', values.server])],
    {
      execArgv: ['--import', 'tsx', '--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const replies: Reply[] = [];
  let waiter: (() => void) | undefined;
  proc.on('message', (m: Reply) => {
    replies.push(m);
    waiter?.();
  });
  const reply = async (): Promise<Reply> => {
    while (replies.length === 0) await new Promise<void>((resolve) => (waiter = resolve));
    return replies.shift()!;
  };
  const measure = async (): Promise<Reply> => {
    proc.send({ cmd: 'measure' });
    return reply();
  };
  const port = (await reply()).port!;
  const sessions: ClientHttp2Session[] = [];
  const opened: ClientHttp2Stream[] = [];
  const before = await measure();
  const shared = headerOnly ? undefined : firstRequest(kib, 0);
  let answered = 0;
  let ended = 0;
  // 10 first requests of 512 KiB at once on a connection stay within maxPartialRequestBytesPerConnection (32 MiB).
  const perConnection = headerOnly ? 100 : 10;
  for (let i = 0; i < streams; i++) {
    if (i % perConnection === 0) {
      const session = connect(`http://127.0.0.1:${port}`);
      session.on('error', () => {});
      sessions.push(session);
    }
    const stream = sessions.at(-1)!.request({
      ':method': 'POST',
      ':path': '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    stream.on('error', () => {});
    stream.once('data', () => answered++);
    stream.once('close', () => ended++);
    if (!headerOnly) stream.write(values.distinct ? firstRequest(kib, i + 1) : shared);
    opened.push(stream);
  }
  let now = await measure();
  const deadline = Date.now() + 300_000;
  while ((headerOnly ? now.pending! : answered) < streams) {
    if (Date.now() > deadline || ended > 0) {
      proc.kill();
      throw new Error(`${headerOnly ? now.pending : answered} of ${streams} streams held, ${ended} ended`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    now = await measure();
  }
  now = await measure();
  const kibOf = (bytes: number) => (bytes / 1024).toFixed(1);
  const what = headerOnly
    ? 'header-only streams'
    : `streams with ${values.distinct ? 'distinct' : 'the same'} ${kib} KiB node`;
  console.log(
    `${streams} ${what}: open ${now.open}, pending ${now.pending}; heap +${kibOf(now.heap! - before.heap!)} KiB ` +
      `(${kibOf((now.heap! - before.heap!) / streams)} KiB per stream), RSS +${kibOf(now.rss! - before.rss!)} KiB ` +
      `(${kibOf((now.rss! - before.rss!) / streams)} KiB per stream)`,
  );
  for (const session of sessions) session.destroy();
  proc.send({ cmd: 'exit' });
}
