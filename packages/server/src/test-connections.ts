// Test support for the connection-limit tests (rule L2): raw TCP and HTTP/2 connections from a chosen loopback
// address (127.0.0.2 and friends are distinct peers), whether the server closed them, and a logger that keeps its
// warnings.
import type { ClientHttp2Session } from 'node:http2';
import { connect as http2Connect } from 'node:http2';
import { connect, type Socket } from 'node:net';
import type { Logger } from './logger.js';
import { until } from './test-raw-client.js';

/** How long a connection test waits for what it expects. */
export const patience = 60_000;
/** A set-up bound long enough that the idle sockets a test holds stay held for the whole test. */
export const idleHeld = 3_600_000;

/** A logger that keeps its warn lines. */
export function recordingLogger(): Logger & { readonly warnings: { object: object; message: string }[] } {
  const warnings: { object: object; message: string }[] = [];
  const noop = () => {};
  return {
    warnings,
    debug: noop,
    info: noop,
    error: noop,
    warn: (object, message = '') => warnings.push({ object, message }),
  };
}

/** A raw TCP connection from `localAddress`, with whether and when the server closed it. */
export interface RawSocket {
  readonly socket: Socket;
  closed: boolean;
}

export function rawSocket(port: number, localAddress = '127.0.0.1'): RawSocket {
  const socket = connect({ host: '127.0.0.1', port, localAddress });
  const raw: RawSocket = { socket, closed: false };
  socket.on('error', () => {});
  // Read (and drop) what the server sends, so that its close is seen after its SETTINGS.
  socket.resume();
  socket.on('close', () => {
    raw.closed = true;
  });
  return raw;
}

/** Opens `count` raw connections from `localAddress` and waits until each is connected or closed. */
export async function flood(port: number, count: number, localAddress = '127.0.0.1'): Promise<RawSocket[]> {
  const sockets = Array.from({ length: count }, () => rawSocket(port, localAddress));
  await until(
    () => sockets.every((s) => s.closed || (!s.socket.connecting && s.socket.remotePort !== undefined)),
    'the flood connected',
    patience,
  );
  return sockets;
}

/**
 * An HTTP/2 connection from `localAddress`: 'served' once the server's SETTINGS arrive (it made a session for
 * it), 'refused' when the connection closes before that.
 */
export async function http2Outcome(port: number, localAddress = '127.0.0.1'): Promise<'served' | 'refused'> {
  const session: ClientHttp2Session = http2Connect(`http://127.0.0.1:${port}`, {
    createConnection: () => connect({ host: '127.0.0.1', port, localAddress }),
  });
  session.on('error', () => {});
  try {
    return await new Promise<'served' | 'refused'>((resolve) => {
      session.once('remoteSettings', () => resolve('served'));
      session.once('close', () => resolve('refused'));
    });
  } finally {
    session.destroy();
  }
}
