// Rule L4 (no input takes the server down): on Node 20, a client that leaves its trailers unfinished and stops
// reading could abort the server process (`Http2Session::~Http2Session(): Assertion (current_nghttp2_memory_) ==
// (0) failed`, found by the fuzzer, seed 20261205). session-guard.ts keeps each session alive until its streams
// are collected. The server runs in a child process (test-abort-target.ts) so that an abort shows as its exit.
import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { TypeUrl } from '@xds/api';
import { Snapshot, SnapshotCache } from '@xds/cache';
import { makeCluster } from '@xds/generator';
import { XdsTestClient } from '@xds/testing';
import { guardedSessionCount } from './session-guard.js';
import type { AbortTargetMode, AbortTargetReply, AbortTargetRequest } from './test-abort-target.js';
import { methodPathOf, sotwRequest } from './test-raw-client.js';
import { XdsServer } from './xds-server.js';

/** One HTTP/2 frame. */
function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

/** An HPACK integer with an `n`-bit prefix under `first`. */
function hpackInt(value: number, n: number, first: number): Buffer {
  const max = (1 << n) - 1;
  if (value < max) return Buffer.from([first | value]);
  const out = [first | max];
  let rest = value - max;
  for (; rest >= 128; rest = Math.floor(rest / 128)) out.push((rest % 128) + 128);
  out.push(rest);
  return Buffer.from(out);
}

/** A literal header field: indexed (0x40, it enters the decoder's table) or not (0x00). */
function literal(name: string, value: string, indexed = false): Buffer {
  const n = Buffer.from(name);
  const v = Buffer.from(value);
  return Buffer.concat([
    Buffer.from([indexed ? 0x40 : 0]),
    hpackInt(n.length, 7, 0),
    n,
    hpackInt(v.length, 7, 0),
    v,
  ]);
}

const HEADERS = 1;
const DATA = 0;
const END_STREAM = 1;
const END_HEADERS = 4;
/** Ten indexed trailers of 100 bytes: 10 × (6 + 100 + 32) bytes in the decoder's table once decoded. */
const trailers = Buffer.concat(
  Array.from({ length: 10 }, (_, i) => literal(`x-t${i}`, 'T'.repeat(100), true)),
);
const trailersBytes = 10 * (4 + 100 + 32);

/** The server process and its IPC. */
class Target {
  readonly child: ChildProcess;
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  #stderr = '';

  constructor(mode: AbortTargetMode = 'listen') {
    this.child = fork(new URL('./test-abort-target.ts', import.meta.url), [mode], {
      execArgv: ['--import', 'tsx', '--expose-gc'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-4000);
    });
    this.child.on('exit', (code, signal) => {
      this.exit = { code, signal };
    });
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** The next reply, or undefined when the process exits first (within 120 s). */
  async next(): Promise<AbortTargetReply | undefined> {
    if (this.exit !== undefined) return undefined;
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 120_000);
    try {
      const reply = await Promise.race([
        once(this.child, 'message', { signal: ac.signal }).then(([m]) => m as AbortTargetReply),
        once(this.child, 'exit', { signal: ac.signal }).then(() => undefined),
      ]);
      return reply;
    } finally {
      clearTimeout(timer);
      ac.abort();
    }
  }

  /** Sends a request and waits for its answer; undefined when the process exited. */
  async ask(request: AbortTargetRequest): Promise<AbortTargetReply | undefined> {
    if (this.exit !== undefined) return undefined;
    this.child.send(request);
    return this.next();
  }

  stop(): void {
    if (this.exit === undefined && this.child.pid !== undefined) this.child.kill('SIGKILL');
  }
}

/**
 * The attack: an ADS stream that is answered, then trailers started and never finished (HEADERS with END_STREAM
 * and without END_HEADERS), a client that never reads while the server writes 6 MB to the stream, the session
 * destroyed with that write pending (grpc-js does it when its keepalive ping goes unanswered, 40 s by default;
 * the test asks for it), then the client resets the connection and the server collects garbage.
 */
async function attack(target: Target, port: number): Promise<void> {
  const socket: Socket = connect({ port, host: '127.0.0.1' });
  socket.on('error', () => {});
  socket.pause(); // never reads
  await once(socket, 'connect');
  const settings = Buffer.alloc(6);
  settings.writeUInt16BE(4, 0); // SETTINGS_INITIAL_WINDOW_SIZE
  settings.writeUInt32BE(0x7fffffff, 2);
  const windowUpdate = Buffer.alloc(4);
  windowUpdate.writeUInt32BE(0x7fffffff - 65535);
  const request = Buffer.concat([
    literal(':method', 'POST'),
    literal(':scheme', 'http'),
    literal(':path', methodPathOf('sotw')),
    literal(':authority', 'xds'),
    literal('content-type', 'application/grpc'),
    literal('te', 'trailers'),
  ]);
  socket.write(
    Buffer.concat([
      Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
      frame(4, 0, 0, settings),
      frame(8, 0, 0, windowUpdate),
      frame(HEADERS, END_HEADERS, 1, request),
      frame(DATA, 0, 1, sotwRequest({ node: { id: 'victim' }, typeUrl: TypeUrl.Cluster })),
    ]),
  );
  assert.ok(await target.ask({ type: 'responded' }), 'the server answered the stream');
  socket.write(frame(HEADERS, END_STREAM, 1, trailers)); // no END_HEADERS, and no CONTINUATION ever
  assert.ok(await target.ask({ type: 'decoded', bytes: trailersBytes }), 'the server decoded the trailers');
  assert.ok(await target.ask({ type: 'push' }), 'the server wrote the push');
  assert.ok(await target.ask({ type: 'destroy' }), 'the server destroyed the session');
  socket.resetAndDestroy();
  await once(socket, 'close');
}

/** Runs the attack on a target, then collects garbage and checks the process lives and serves a bystander. */
async function survives(target: Target): Promise<void> {
  const ready = await target.next();
  assert.ok(ready?.type === 'ready', `the target did not start: ${target.stderr}`);
  await attack(target, ready.port);
  // The session is garbage, its stream not yet: unguarded, Node 20 aborts in this collection, freeing the
  // session while the stream still holds the trailers' memory.
  const died = () => `the server process died: ${JSON.stringify(target.exit)}\n${target.stderr}`;
  assert.ok(await target.ask({ type: 'gc' }), died());
  // Then the stream goes too, and the session after it.
  assert.ok(await target.ask({ type: 'release' }), died());
  for (let i = 0; i < 2; i++) assert.ok(await target.ask({ type: 'gc' }), died());
  // And it still serves.
  const bystander = new XdsTestClient({
    address: `127.0.0.1:${ready.port}`,
    node: 'bystander',
    timeoutMs: 60_000,
  });
  try {
    bystander.subscribe(TypeUrl.Cluster, []);
    const response = await bystander.next(TypeUrl.Cluster);
    assert.deepEqual(response.names, ['b']);
  } finally {
    await bystander.close();
  }
  assert.equal(target.exit, undefined, 'the server process is alive');
}

describe('HTTP/2 session guard (rule L4)', { timeout: 300_000 }, () => {
  it('L4: unfinished trailers, a client that never reads and a session destroyed mid-write do not abort the server', async () => {
    const target = new Target('listen');
    try {
      await survives(target);
    } finally {
      target.stop();
    }
  });

  it("L4: an application's own grpc-js server with the services mounted by addTo, guarded by guardGrpcServer, survives the same attack", async () => {
    const target = new Target('own-guarded');
    try {
      await survives(target);
    } finally {
      target.stop();
    }
  });
});

describe('HTTP/2 session guard: sessions are let go (rule L4)', { timeout: 180_000 }, () => {
  it('L4: every guarded session is let go once it has closed', async () => {
    const cache = new SnapshotCache();
    cache.setSnapshot('n', Snapshot.create([makeCluster({ name: 'c' })], { version: 'v1' }));
    const server = new XdsServer({ cache });
    const port = await server.listen('127.0.0.1:0');
    const before = guardedSessionCount();
    try {
      const clients = Array.from(
        { length: 5 },
        () => new XdsTestClient({ address: `127.0.0.1:${port}`, node: 'n', timeoutMs: 60_000 }),
      );
      for (const client of clients) client.subscribe(TypeUrl.Cluster, []);
      for (const client of clients) assert.deepEqual((await client.next(TypeUrl.Cluster)).names, ['c']);
      assert.ok(guardedSessionCount() > before, 'the connection of the clients is a guarded session');
      await Promise.all(clients.map((client) => client.close()));
      const deadline = Date.now() + 60_000;
      while (guardedSessionCount() > before && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(guardedSessionCount(), before, 'the guard holds no closed session');
    } finally {
      await server.close();
    }
  });
});
