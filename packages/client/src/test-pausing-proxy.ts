// Test support: a TCP proxy on 127.0.0.1 that can stop reading what clients send (probe5 P7, rule L2 from the
// client's side). Pausing the client's socket stops the bytes at the socket, as behind an origin that stalls: the
// kernel's buffers fill, then HTTP/2 flow control, then the client's own writes back up for real. Node cannot shrink
// a socket's receive buffer, and a server's stream `pause()` does not stop HTTP/2 credit, so this is how a test makes
// a real gRPC server behind it stop reading. What the server sends back still flows to the client.
import net from 'node:net';

/** A pausing proxy: its address, and the controls a test drives. */
export interface PausingProxy {
  /** `127.0.0.1:PORT` to give the client. */
  readonly address: string;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Bytes read from clients and passed on to the server. */
  readonly bytesIn: number;
  /** Stops reading from every open client connection (new connections are read). */
  pause(): void;
  /** Reads every open client connection again. */
  resume(): void;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

/** Proxies 127.0.0.1:(any free port) to `target` (`host:port`). */
export async function pausingProxy(target: string): Promise<PausingProxy> {
  const colon = target.lastIndexOf(':');
  const host = target.slice(0, colon);
  const port = Number(target.slice(colon + 1));
  const paused = new Set<net.Socket>();
  const clients = new Set<net.Socket>();
  const open = new Set<net.Socket>();
  let connections = 0;
  let bytesIn = 0;
  const server = net.createServer((client) => {
    connections++;
    const upstream = net.connect(port, host);
    clients.add(client);
    open.add(client);
    open.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
      clients.delete(client);
      paused.delete(client);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.on('data', (chunk: Buffer) => {
      bytesIn += chunk.length;
      if (upstream.write(chunk)) return;
      // The server reads slower than the client writes: wait for it, unless a test paused this client meanwhile.
      client.pause();
      upstream.once('drain', () => {
        if (!paused.has(client)) client.resume();
      });
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${address.port}`,
    get connections() {
      return connections;
    },
    get bytesIn() {
      return bytesIn;
    },
    pause() {
      for (const client of clients) {
        paused.add(client);
        client.pause();
      }
    },
    resume() {
      for (const socket of paused) socket.resume();
      paused.clear();
    },
    close() {
      for (const socket of open) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
