// Rule L2 on the admin port (probe finding F7): connections are capped, and a connection that sends nothing, or
// sends a request too slowly, is closed; so idle admin connections cannot take the file descriptors the xDS port
// needs. Real sockets against a real admin server on loopback.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { createHttpAdmin, type HttpAdmin, sendJson } from './http-admin.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} } as never;
/** Releases of the `/hang` requests under way, in arrival order. */
const hanging: (() => void)[] = [];
const routes = {
  '/healthz': (_url: URL, response: import('node:http').ServerResponse) =>
    sendJson(response, 200, { ok: true }),
  '/hang': async (_url: URL, response: import('node:http').ServerResponse) => {
    await new Promise<void>((resolve) => hanging.push(resolve));
    sendJson(response, 200, { ok: true });
  },
};

/** Polls `condition` until it holds, or fails after a minute. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A raw TCP connection, resolved once connected; `closed` resolves when the server closes it. */
async function open(
  port: number,
): Promise<{ socket: Socket; closed: Promise<string>; isClosed: () => boolean }> {
  const socket = connect(port, '127.0.0.1');
  let data = '';
  let done = false;
  socket.on('data', (chunk) => {
    data += chunk.toString('latin1');
  });
  socket.on('error', () => {});
  const closed = new Promise<string>((resolve) =>
    socket.once('close', () => {
      done = true;
      resolve(data);
    }),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, closed, isClosed: () => done };
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function healthz(port: number): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(30_000) });
  await response.text();
  return response.status;
}

describe('admin port limits', () => {
  const admins: HttpAdmin[] = [];
  after(async () => {
    for (const admin of admins) await admin.close();
  });
  async function start(options: Parameters<typeof createHttpAdmin>[2]): Promise<number> {
    const admin = createHttpAdmin(routes, silent, options);
    admins.push(admin);
    return admin.listen('127.0.0.1:0');
  }

  it('L2: past maxConnections, with every connection in the middle of a request, a new one is closed at once', async () => {
    const port = await start({ maxConnections: 4, idleTimeoutMs: 600_000 });
    const held = [];
    for (let i = 0; i < 4; i++) held.push(await open(port));
    // each held connection asks for a page that is not answered until the test releases it: all four are busy
    for (const { socket } of held) socket.write('GET /hang HTTP/1.1\r\nhost: a\r\n\r\n');
    await until(() => hanging.length === 4, 'the four held connections are in the middle of a request');
    const extra = await open(port);
    const data = await within(extra.closed, 60_000, 'the fifth connection is closed');
    assert.equal(data, '', 'the refused connection gets no bytes');
    assert.deepEqual(
      held.map((h) => h.isClosed()),
      [false, false, false, false],
      'the four held connections are still open',
    );
    for (const release of hanging.splice(0)) release();
    for (const { socket } of held) socket.destroy();
    // with the held ones gone, the port serves again
    const deadline = Date.now() + 60_000;
    let status = 0;
    while (Date.now() < deadline && status !== 200) status = await healthz(port).catch(() => 0);
    assert.equal(status, 200);
  });

  it('L2: past maxConnections, a new connection takes the slot of the one waiting longest between requests (probe Q8)', async () => {
    const port = await start({ maxConnections: 4, idleTimeoutMs: 600_000 });
    const held = [];
    // four kept-alive connections that asked for /healthz and were answered: each waits for its next request
    for (let i = 0; i < 4; i++) {
      const connection = await open(port);
      connection.socket.write('GET /healthz HTTP/1.1\r\nhost: a\r\n\r\n');
      await within(
        new Promise<void>((resolve) => connection.socket.once('data', () => resolve())),
        60_000,
        'the held connection answered',
      );
      held.push(connection);
    }
    assert.equal(await healthz(port), 200, 'a probe is served while the port is full');
    await within(held[0]!.closed, 60_000, 'the connection waiting longest made room');
    assert.deepEqual(
      held.slice(1).map((h) => h.isClosed()),
      [false, false, false],
      'the others are still open',
    );
    for (const { socket } of held) socket.destroy();
  });

  it('L2: a connection that sends nothing is closed after idleTimeoutMs', async () => {
    const port = await start({ idleTimeoutMs: 300 });
    const silentOne = await open(port);
    assert.equal(await within(silentOne.closed, 60_000, 'the silent connection is closed'), '');
    assert.equal(await healthz(port), 200, 'the port still serves');
  });

  it('L2: a request whose headers trickle in is closed after requestTimeoutMs, even though it is never idle', async () => {
    const port = await start({ idleTimeoutMs: 60_000, requestTimeoutMs: 500 });
    const slow = await open(port);
    slow.socket.write('GET /healthz HTTP/1.1\r\n');
    const timer = setInterval(() => {
      if (!slow.socket.destroyed) slow.socket.write('x-a: b\r\n');
    }, 50);
    try {
      const data = await within(slow.closed, 60_000, 'the slow request is closed');
      assert.match(data, /^HTTP\/1\.1 408 /, 'Node answers 408 Request Timeout');
    } finally {
      clearInterval(timer);
    }
  });
});

describe('admin port limits, answering', () => {
  it('L2: a page that takes longer than idleTimeoutMs to answer is still answered', async () => {
    let release: (() => void) | undefined;
    const slowRoutes = {
      '/slow': async (_url: URL, response: import('node:http').ServerResponse) => {
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        sendJson(response, 200, { ok: true });
      },
    };
    const admin = createHttpAdmin(slowRoutes, silent, { idleTimeoutMs: 200 });
    try {
      const port = await admin.listen('127.0.0.1:0');
      const answer = fetch(`http://127.0.0.1:${port}/slow`, { signal: AbortSignal.timeout(60_000) });
      // wait until the page runs, then well past the idle timeout (a second silent connection, closed at 200 ms,
      // is the clock: no sleep)
      const deadline = Date.now() + 60_000;
      while (release === undefined && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 10));
      const clock = await open(port);
      await within(clock.closed, 60_000, 'the idle clock connection is closed');
      release?.();
      const response = await answer;
      assert.equal(response.status, 200, 'the slow page is answered, its connection not closed as idle');
    } finally {
      await admin.close();
    }
  });
});
