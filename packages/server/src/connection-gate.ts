// Bounds the TCP connections an xDS listener holds (rule L2, issue 10): `limits.maxConnections` in all and
// `limits.maxConnectionsPerPeer` from one peer address. Streams per connection and per node were bounded already,
// but not connections: one peer could open them until the process ran out of file descriptors, and then every
// client, new pods included, was refused at accept.
//
// The gate sits in front of the listeners an HTTP/2 server (plain or TLS) has for `connection`: a connection past
// a limit is destroyed there, before a TLS socket or an HTTP/2 session is made for it, so a refusal costs an
// accept and a close. Refusals are counted by limit and logged at most once per limit per 10 s, with the peer and
// how many were refused since the previous line.
//
// A connection admitted must open its first stream within `limits.connectionSetupTimeoutMs` (TLS handshake, HTTP/2
// preface, SETTINGS and first HEADERS included), or the gate closes it (probe finding P5: idle sockets were held
// until HTTP/2 keepalive ended them, ~180 s, and filled the gate, so every new client was refused). A connection
// whose streams have all ended is left to keepalive and to the client's own idle timeout: it has proved it speaks
// gRPC, and the per-peer cap bounds how many one address can hold.
import { readFileSync } from 'node:fs';
import type { ServerHttp2Session } from 'node:http2';
import type { Server as NetServer, Socket } from 'node:net';
import type { ResolvedLimits } from './limits.js';
import type { Logger } from './logger.js';
import { type SessionErrorStats, SessionErrors } from './session-errors.js';

/** The limits that refuse a connection (at accept), or close it (`connectionSetupTimeoutMs`: no stream in time). */
export type ConnectionLimit = 'maxConnections' | 'maxConnectionsPerPeer' | 'connectionSetupTimeoutMs';

/** The limits the gate enforces, resolved. */
export type GateLimits = Pick<ResolvedLimits, ConnectionLimit>;

/** What {@link XdsServer.connectionStats} reports: connections held and refused (rule L2). */
export interface ConnectionStats {
  /** Connections the gated listeners hold now (TLS handshakes under way included). */
  readonly open: number;
  /** Distinct peer addresses among them. */
  readonly peers: number;
  /**
   * Connections closed because they went past a limit, since start, by the limit's name: at accept
   * (`maxConnections`, `maxConnectionsPerPeer`) or for opening no stream in time (`connectionSetupTimeoutMs`).
   */
  readonly refused: Readonly<Partial<Record<ConnectionLimit, number>>>;
  /** Connections Node ended on an error (GOAWAY INTERNAL_ERROR; every stream on them ended without a status). */
  readonly errors: SessionErrorStats;
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

/**
 * The default of `limits.maxConnectionsPerPeer` under a cap of `maxConnections`: the default (1,024) or a quarter
 * of the cap when that is smaller (at least 1), so that one address can never hold every slot.
 */
export function defaultPerPeerCap(defaultPerPeer: number, maxConnections: number): number {
  return Math.max(1, Math.min(defaultPerPeer, Math.floor(maxConnections / 4)));
}

/**
 * The limits a gate runs with: those set in `given` as given; unset, `maxConnections` stays below the open-file
 * limit ({@link defaultConnectionCap}) and `maxConnectionsPerPeer` below a quarter of it ({@link defaultPerPeerCap}).
 */
export function gateLimits(
  given: Partial<GateLimits> | undefined,
  resolved: GateLimits,
  filesLimit: number | undefined,
): GateLimits {
  const maxConnections =
    given?.maxConnections === undefined
      ? defaultConnectionCap(resolved.maxConnections, filesLimit)
      : resolved.maxConnections;
  return {
    maxConnections,
    maxConnectionsPerPeer:
      given?.maxConnectionsPerPeer === undefined
        ? defaultPerPeerCap(resolved.maxConnectionsPerPeer, maxConnections)
        : resolved.maxConnectionsPerPeer,
    connectionSetupTimeoutMs: resolved.connectionSetupTimeoutMs,
  };
}

/** A connection's key, the same on the accepted socket and on the TLS socket or HTTP/2 session made over it. */
function connectionKey(socket: Pick<Socket, 'remoteAddress' | 'remotePort' | 'localAddress' | 'localPort'>) {
  if (socket.remoteAddress === undefined || socket.remotePort === undefined) return undefined;
  return `${socket.remoteAddress}|${socket.remotePort}|${socket.localAddress}|${socket.localPort}`;
}

/** A connection that has not opened a stream yet: its set-up timer, and its HTTP/2 session once there is one. */
interface SettingUp {
  readonly timer: NodeJS.Timeout;
  session?: ServerHttp2Session;
}

/** When a limit was last logged, and how many refusals since. */
interface LogState {
  at: number;
  since: number;
}

/** Counts the connections of the listeners it gates and refuses those past the limits. */
export class ConnectionGate {
  readonly #limits: GateLimits;
  readonly #logger: Logger;
  readonly #gated = new WeakSet<NetServer>();
  readonly #perPeer = new Map<string, number>();
  readonly #refused = new Map<ConnectionLimit, number>();
  readonly #logged = new Map<ConnectionLimit, LogState>();
  /** The set-up timers of admitted connections that have not opened a stream yet, by {@link connectionKey}. */
  readonly #settingUp = new Map<string, SettingUp>();
  readonly #errors: SessionErrors;
  #open = 0;

  constructor(limits: GateLimits, logger: Logger) {
    this.#limits = limits;
    this.#logger = logger;
    this.#errors = new SessionErrors(logger);
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
    // An HTTP/2 server emits `session` once the TLS handshake (if any) is done; its first stream ends set-up.
    server.on('session', (session: ServerHttp2Session) => {
      this.#errors.watch(session);
      const key = session.socket === undefined ? undefined : connectionKey(session.socket);
      const settingUp = key === undefined ? undefined : this.#settingUp.get(key);
      if (key === undefined || settingUp === undefined) return;
      // A plaintext session owns the socket's handle: closing the connection then means destroying the session.
      settingUp.session = session;
      session.once('stream', () => {
        if (this.#settingUp.get(key) === settingUp) this.#setUp(key);
      });
    });
  }

  /** The cap on connections from one peer address. */
  get maxConnectionsPerPeer(): number {
    return this.#limits.maxConnectionsPerPeer;
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
      errors: this.#errors.stats(),
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
    const key = connectionKey(socket);
    // A key is a 4-tuple, which a new connection may take while the 'close' of the old one is still to come:
    // each connection acts only on its own entry, never on one a later connection put under the same key.
    let entry: SettingUp | undefined;
    if (key !== undefined) {
      const timer = setTimeout(() => {
        if (this.#settingUp.get(key) !== entry) return;
        this.#settingUp.delete(key);
        entry?.session?.destroy();
        socket.destroy();
        this.#refuse('connectionSetupTimeoutMs', peer, this.#perPeer.get(peer ?? '') ?? 0);
      }, this.#limits.connectionSetupTimeoutMs);
      timer.unref();
      const stale = this.#settingUp.get(key);
      if (stale !== undefined) clearTimeout(stale.timer);
      entry = { timer };
      this.#settingUp.set(key, entry);
    }
    socket.once('close', () => {
      if (entry !== undefined) clearTimeout(entry.timer);
      if (key !== undefined && this.#settingUp.get(key) === entry) this.#settingUp.delete(key);
      this.#open--;
      if (peer === undefined) return;
      const left = (this.#perPeer.get(peer) ?? 1) - 1;
      if (left <= 0) this.#perPeer.delete(peer);
      else this.#perPeer.set(peer, left);
    });
    return true;
  }

  /** Ends `key`'s set-up bound: it opened a stream, or closed. */
  #setUp(key: string): void {
    const settingUp = this.#settingUp.get(key);
    if (settingUp === undefined) return;
    clearTimeout(settingUp.timer);
    this.#settingUp.delete(key);
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
      limit === 'connectionSetupTimeoutMs'
        ? `connection closed: no stream within limits.connectionSetupTimeoutMs (${this.#limits[limit]} ms)`
        : `connection refused: limits.${limit} (${this.#limits[limit]}) reached`,
    );
  }
}
