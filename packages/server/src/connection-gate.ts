// Bounds the TCP connections an xDS listener holds (rule L2, issue 10): `limits.maxConnections` in all and
// `limits.maxConnectionsPerPeer` from one peer address. Streams per connection and per node were bounded already,
// but not connections: one peer could open them until the process ran out of file descriptors, and then every
// client, new pods included, was refused at accept.
//
// The gate sits in front of the listeners an HTTP/2 server (plain or TLS) has for `connection`: a connection past
// a limit is destroyed there, before a TLS socket or an HTTP/2 session is made for it, so a refusal costs an
// accept and a close. Refusals are counted by limit and logged at most once per limit per 10 s, with the peer and
// how many were refused since the previous line.
import { readFileSync } from 'node:fs';
import type { Server as NetServer, Socket } from 'node:net';
import type { ResolvedLimits } from './limits.js';
import type { Logger } from './logger.js';

/** The limits that refuse a connection. */
export type ConnectionLimit = 'maxConnections' | 'maxConnectionsPerPeer';

/** What {@link XdsServer.connectionStats} reports: connections held and refused (rule L2). */
export interface ConnectionStats {
  /** Connections the gated listeners hold now (TLS handshakes under way included). */
  readonly open: number;
  /** Distinct peer addresses among them. */
  readonly peers: number;
  /** Connections closed as they were accepted because they went past a limit, since start, by the limit's name. */
  readonly refused: Readonly<Partial<Record<ConnectionLimit, number>>>;
}

/** The shortest time between two log lines about one limit (ms). */
export const refusalLogIntervalMs = 10_000;

/**
 * A peer's key: its address, with an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) as its IPv4 form, so that a
 * dual-stack listener counts one peer once. Undefined when the socket has no address (already closed, or a Unix
 * socket): such a connection counts against `maxConnections` only.
 */
export function peerKey(address: string | undefined): string | undefined {
  if (address === undefined || address === '') return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] ?? address.toLowerCase();
}

/**
 * The process's open-file limit (the soft `RLIMIT_NOFILE`, which Node raises to the hard one at start), read from
 * `/proc/self/limits`; undefined where there is no such file (not Linux) or it does not say.
 */
export function openFilesLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = /^Max open files\s+(\d+)/.exec(line ?? '')?.[1];
    return soft === undefined ? undefined : Number(soft);
  } catch {
    return undefined;
  }
}

/** Descriptors kept for everything but xDS connections (files, the admin port, registries, upstream streams). */
export const reservedDescriptors = 1024;

/**
 * The connection cap in force when `limits.maxConnections` was not set: the default, or, when the open-file limit
 * leaves less room, that limit less {@link reservedDescriptors} (half the limit when it is under twice that), so
 * that the cap is reached before the process runs out of descriptors.
 */
export function defaultConnectionCap(defaultCap: number, filesLimit: number | undefined): number {
  if (filesLimit === undefined) return defaultCap;
  const room = Math.max(filesLimit - reservedDescriptors, Math.floor(filesLimit / 2), 1);
  return Math.min(defaultCap, room);
}

/** When a limit was last logged, and how many refusals since. */
interface LogState {
  at: number;
  since: number;
}

/** Counts the connections of the listeners it gates and refuses those past the limits. */
export class ConnectionGate {
  readonly #limits: Pick<ResolvedLimits, ConnectionLimit>;
  readonly #logger: Logger;
  readonly #gated = new WeakSet<NetServer>();
  readonly #perPeer = new Map<string, number>();
  readonly #refused = new Map<ConnectionLimit, number>();
  readonly #logged = new Map<ConnectionLimit, LogState>();
  #open = 0;

  constructor(limits: Pick<ResolvedLimits, ConnectionLimit>, logger: Logger) {
    this.#limits = limits;
    this.#logger = logger;
  }

  /**
   * Puts the gate in front of `server`'s `connection` listeners (those it has now: Node's HTTP/2 or TLS one, and
   * grpc-js's): they see only the connections the gate admits. A server already gated is left as it is.
   */
  gate(server: NetServer): void {
    if (this.#gated.has(server)) return;
    this.#gated.add(server);
    const inner = server.listeners('connection') as ((socket: Socket) => void)[];
    for (const listener of inner) server.removeListener('connection', listener);
    server.on('connection', (socket: Socket) => {
      if (!this.#admit(socket)) return;
      for (const listener of inner) listener.call(server, socket);
    });
  }

  /** The cap on connections in all. */
  get maxConnections(): number {
    return this.#limits.maxConnections;
  }

  /** Connections held and refused. */
  stats(): ConnectionStats {
    return {
      open: this.#open,
      peers: this.#perPeer.size,
      refused: Object.fromEntries(this.#refused) as ConnectionStats['refused'],
    };
  }

  /** Counts `socket` in, until it closes; or destroys it and returns false when it goes past a limit. */
  #admit(socket: Socket): boolean {
    const peer = peerKey(socket.remoteAddress);
    const fromPeer = peer === undefined ? 0 : (this.#perPeer.get(peer) ?? 0);
    const refusal: ConnectionLimit | undefined =
      this.#open >= this.#limits.maxConnections
        ? 'maxConnections'
        : peer !== undefined && fromPeer >= this.#limits.maxConnectionsPerPeer
          ? 'maxConnectionsPerPeer'
          : undefined;
    if (refusal !== undefined) {
      socket.destroy();
      this.#refuse(refusal, peer, fromPeer);
      return false;
    }
    this.#open++;
    if (peer !== undefined) this.#perPeer.set(peer, fromPeer + 1);
    socket.once('close', () => {
      this.#open--;
      if (peer === undefined) return;
      const left = (this.#perPeer.get(peer) ?? 1) - 1;
      if (left <= 0) this.#perPeer.delete(peer);
      else this.#perPeer.set(peer, left);
    });
    return true;
  }

  #refuse(limit: ConnectionLimit, peer: string | undefined, fromPeer: number): void {
    this.#refused.set(limit, (this.#refused.get(limit) ?? 0) + 1);
    const now = Date.now();
    const state = this.#logged.get(limit);
    if (state !== undefined && now - state.at < refusalLogIntervalMs) {
      state.since++;
      return;
    }
    this.#logged.set(limit, { at: now, since: 0 });
    this.#logger.warn(
      {
        peer: peer ?? 'unknown',
        limit,
        max: this.#limits[limit],
        open: this.#open,
        fromPeer,
        refusedSincePreviousLine: (state?.since ?? 0) + 1,
      },
      `connection refused: limits.${limit} (${this.#limits[limit]}) reached`,
    );
  }
}
