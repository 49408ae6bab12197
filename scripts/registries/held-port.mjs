// A loopback port that a test process holds for as long as it needs one address for a server that stops and starts
// again: the server behind it gets fresh ports on every start, so nothing races another process for a port that was
// given back (the pick-then-bind race: etcd lost its port that way in CI). The port forwards every connection, byte
// for byte, to the server's current port; with no server behind it, a connection is accepted and reset at once, as
// a client of a stopped server sees it. A forwarded connection ends when either side ends it.
import { createConnection, createServer } from 'node:net';

/**
 * @typedef {object} HeldPort
 * @property {number} port the held port on 127.0.0.1
 * @property {string} url `http://127.0.0.1:PORT`
 * @property {(target: number | undefined) => void} forwardTo sends new connections to `127.0.0.1:target`, or resets
 *   them when `target` is undefined (nothing behind the port); connections open already stay as they are
 * @property {() => number | undefined} target the port new connections go to
 * @property {() => Promise<void>} close resets every open connection and gives the port back
 */

/**
 * Holds a free loopback port (the kernel's choice, never given back while held) in front of `target`.
 * @param {number} [target]
 * @returns {Promise<HeldPort>}
 */
export async function holdPort(target) {
  let current = target;
  const open = new Set();
  const reset = (socket) => {
    if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
    else socket.destroy();
  };
  const server = createServer((downstream) => {
    open.add(downstream);
    downstream.once('close', () => open.delete(downstream));
    downstream.on('error', () => {});
    if (current === undefined) {
      reset(downstream);
      return;
    }
    const upstream = createConnection({ host: '127.0.0.1', port: current });
    open.add(upstream);
    upstream.once('close', () => open.delete(upstream));
    upstream.on('error', () => {});
    // a side that fails or goes away takes the other along: its client sees the server's end
    upstream.once('close', (hadError) => (hadError ? reset(downstream) : downstream.end()));
    downstream.once('close', () => upstream.destroy());
    downstream.pipe(upstream);
    upstream.pipe(downstream);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    forwardTo(next) {
      current = next;
    },
    target: () => current,
    async close() {
      for (const socket of open) reset(socket);
      await new Promise((resolve) => server.close(() => resolve(undefined)));
    },
  };
}
