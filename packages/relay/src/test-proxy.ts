// Test support: a TCP forwarder on 127.0.0.1 in front of a relay or an origin. It connects onward from a chosen
// loopback address, so that grpc-js clients (which cannot pick their source address) reach the relay as another peer
// (127.0.0.2 is another peer than 127.0.0.1: rule L2's per-peer shares); and it can hold what the server sends back,
// so that a test makes a response cross a request in flight (review R3) deterministically, without timing; and it can
// cut the server off (connections ended and refused) and mend it.
import net from 'node:net';

/** A forwarder: its address and its controls. */
export interface Forwarder {
  /** `127.0.0.1:PORT` to give the client. */
  readonly address: string;
  /** Holds what the server sends (it reaches the client on {@link release}); what clients send still flows. */
  hold(): void;
  /** Passes on what was held, in order, and everything after it. */
  release(): void;
  /** Ends every open connection, and ends each new one at once until {@link mend} (the server is unreachable). */
  cut(): void;
  /** Forwards new connections again. */
  mend(): void;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

/** Forwards 127.0.0.1:(any free port) to `target` (`host:port`), connecting from `localAddress`. */
export async function forwarder(target: string, localAddress = '127.0.0.1'): Promise<Forwarder> {
  const colon = target.lastIndexOf(':');
  const host = target.slice(0, colon);
  const port = Number(target.slice(colon + 1));
  const open = new Set<net.Socket>();
  /** Per client socket, what the server sent while held (undefined while not held). */
  const held = new Map<net.Socket, Buffer[]>();
  let holding = false;
  let cut = false;
  const server = net.createServer((client) => {
    if (cut) {
      client.destroy();
      return;
    }
    const upstream = net.connect({ port, host, localAddress });
    open.add(client);
    open.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
      held.delete(client);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      const queue = held.get(client);
      if (holding && queue !== undefined) queue.push(chunk);
      else client.write(chunk);
    });
    held.set(client, []);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: bound } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${bound}`,
    hold: () => {
      holding = true;
    },
    release: () => {
      holding = false;
      for (const [client, queue] of held) {
        for (const chunk of queue.splice(0)) client.write(chunk);
      }
    },
    cut: () => {
      cut = true;
      for (const socket of open) socket.destroy();
    },
    mend: () => {
      cut = false;
    },
    close: async () => {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
