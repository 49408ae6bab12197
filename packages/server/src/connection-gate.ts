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
// that has opened a stream and then has none open may stay `limits.maxConnectionIdleMs` (5 min; gRPC's
// MAX_CONNECTION_IDLE), and when `maxConnections` is reached a new connection takes the slot of the one idle the
// longest (probe finding Q2: one stream to any path, then silence, held a slot for ever, since keepalive never ends
// a peer that answers pings, and a few addresses filled the gate). An IPv6 peer is keyed by its /64, which one host
// or one attacker holds whole.
import { readFileSync } from 'node:fs';
import type { ServerHttp2Session, ServerHttp2Stream } from 'node:http2';
import type { Server as NetServer, Socket } from 'node:net';
import type { ResolvedLimits } from './limits.js';
import type { Logger } from './logger.js';
import { type SessionErrorStats, SessionErrors } from './session-errors.js';

/** The limits that refuse a connection (at accept), or close it (`connectionSetupTimeoutMs`: no stream in time). */
export type ConnectionLimit =
  | 'maxConnections'
  | 'maxConnectionsPerPeer'
  | 'connectionSetupTimeoutMs'
  | 'maxConnectionIdleMs';

/** The limits the gate enforces, resolved. */
export type GateLimits = Pick<ResolvedLimits, ConnectionLimit>;

/** What {@link XdsServer.connectionStats} reports: connections held and refused (rule L2). */
export interface ConnectionStats {
  /** Connections the gated listeners hold now (TLS handshakes under way included). */
  readonly open: number;
  /** Distinct peers among them (IPv4 addresses, IPv6 /64s). */
  readonly peers: number;
  /** Connections among them that have opened a stream and have none open now. */
  readonly idle: number;
  /** Idle connections closed to make room for a new one when `maxConnections` was reached, since start. */
  readonly evicted: number;
  /**
   * Connections closed because they went past a limit, since start, by the limit's name: at accept
   * (`maxConnections`, `maxConnectionsPerPeer`), for opening no stream in time (`connectionSetupTimeoutMs`), or
   * for having no stream open for too long (`maxConnectionIdleMs`).
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
  if (mapped?.[1] !== undefined) return mapped[1];
  if (!address.includes(':')) return address;
  return ipv6Prefix64(address) ?? address.toLowerCase();
}

/**
 * The /64 an IPv6 address is in, as `2001:db8:0:1::/64`: one host (SLAAC, privacy addresses) or one attacker holds
 * a whole /64, so counting its addresses apart would give it 2^64 shares (probe finding Q2). Undefined when the
 * text is not an IPv6 address.
 */
function ipv6Prefix64(address: string): string | undefined {
  const bare = address.split('%')[0]!.toLowerCase();
  const halves = bare.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] === '' ? [] : halves[0]!.split(':');
  const tail = halves.length === 1 || halves[1] === '' ? [] : halves[1]!.split(':');
  // An embedded IPv4 tail (`::1.2.3.4`) is two groups; only the first four groups matter here.
  const groupsOf = (parts: string[]) => parts.reduce((n, part) => n + (part.includes('.') ? 2 : 1), 0);
  const missing = 8 - groupsOf(head) - groupsOf(tail);
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return undefined;
  const groups = [...head, ...Array<string>(missing).fill('0'), ...tail];
  const prefix = groups.slice(0, 4);
  if (prefix.some((group) => !/^[0-9a-f]{1,4}$/.test(group))) return undefined;
  return `${prefix.map((group) => Number.parseInt(group, 16).toString(16)).join(':')}::/64`;
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
    maxConnectionIdleMs: resolved.maxConnectionIdleMs,
  };
}

/** A connection's key, the same on the accepted socket and on the TLS socket or HTTP/2 session made over it. */
function connectionKey(socket: Pick<Socket, 'remoteAddress' | 'remotePort' | 'localAddress' | 'localPort'>) {
  if (socket.remoteAddress === undefined || socket.remotePort === undefined) return undefined;
  return `${socket.remoteAddress}|${socket.remotePort}|${socket.localAddress}|${socket.localPort}`;
}

/** An admitted connection, from accept to close. */
interface Connection {
  readonly socket: Socket;
  readonly peer: string | undefined;
  /** Its HTTP/2 session, once there is one (after the TLS handshake, if any). */
  session?: ServerHttp2Session;
  /** Set while it has not opened a stream: closes it at `connectionSetupTimeoutMs`. */
  setupTimer?: NodeJS.Timeout | undefined;
  /** Set while it has opened a stream and has none open: closes it at `maxConnectionIdleMs`. */
  idleTimer?: NodeJS.Timeout | undefined;
  /** Streams open now. */
  streams: number;
  /** Closed by the gate (counted out already) or by its peer. */
  gone: boolean;
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
  readonly #logged = new Map<ConnectionLimit | 'evicted', LogState>();
  /**
   * Admitted connections by {@link connectionKey}, to find a session's connection. A key is a 4-tuple, which a new
   * connection may take while the 'close' of the old one is still to come: each acts only on its own record.
   */
  readonly #byKey = new Map<string, Connection>();
  /** Connections that have opened a stream and have none open, the one idle the longest first. */
  readonly #idle = new Set<Connection>();
  readonly #errors: SessionErrors;
  #open = 0;
  #evicted = 0;

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
      const connection = key === undefined ? undefined : this.#byKey.get(key);
      if (connection === undefined || connection.gone) return;
      // A plaintext session owns the socket's handle: closing the connection then means destroying the session.
      connection.session = session;
      session.on('stream', (stream: ServerHttp2Stream) => {
        if (connection.gone) return;
        clearTimeout(connection.setupTimer);
        connection.setupTimer = undefined;
        clearTimeout(connection.idleTimer);
        connection.idleTimer = undefined;
        this.#idle.delete(connection);
        connection.streams++;
        stream.once('close', () => {
          connection.streams--;
          if (connection.streams === 0 && !connection.gone) this.#becomeIdle(connection);
        });
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

  /** Connections held, idle, evicted and refused. */
  stats(): ConnectionStats {
    return {
      open: this.#open,
      peers: this.#perPeer.size,
      idle: this.#idle.size,
      evicted: this.#evicted,
      refused: Object.fromEntries(this.#refused) as ConnectionStats['refused'],
      errors: this.#errors.stats(),
    };
  }

  /** Counts `socket` in, until it closes; or destroys it and returns false when it goes past a limit. */
  #admit(socket: Socket): boolean {
    const peer = peerKey(socket.remoteAddress);
    let fromPeer = peer === undefined ? 0 : (this.#perPeer.get(peer) ?? 0);
    if (this.#open >= this.#limits.maxConnections && this.#idle.size > 0) {
      // Full: the connection idle the longest makes room, rather than a client that wants config being refused.
      const [longest] = this.#idle;
      this.#evict(longest!);
      fromPeer = peer === undefined ? 0 : (this.#perPeer.get(peer) ?? 0);
    }
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
    const connection: Connection = { socket, peer, streams: 0, gone: false };
    const key = connectionKey(socket);
    if (key !== undefined) this.#byKey.set(key, connection);
    connection.setupTimer = setTimeout(() => {
      this.#close(connection);
      this.#refuse('connectionSetupTimeoutMs', peer, this.#perPeer.get(peer ?? '') ?? 0);
    }, this.#limits.connectionSetupTimeoutMs);
    connection.setupTimer.unref();
    socket.once('close', () => {
      if (key !== undefined && this.#byKey.get(key) === connection) this.#byKey.delete(key);
      this.#countOut(connection);
    });
    return true;
  }

  /** Starts `connection`'s idle bound: it opened a stream and has none open now. */
  #becomeIdle(connection: Connection): void {
    this.#idle.delete(connection);
    this.#idle.add(connection);
    clearTimeout(connection.idleTimer);
    connection.idleTimer = setTimeout(() => {
      this.#close(connection);
      this.#refuse('maxConnectionIdleMs', connection.peer, this.#perPeer.get(connection.peer ?? '') ?? 0);
    }, this.#limits.maxConnectionIdleMs);
    connection.idleTimer.unref();
  }

  /** Closes an idle connection to make room for a new one, counting it out at once. */
  #evict(connection: Connection): void {
    this.#evicted++;
    this.#close(connection);
    const now = Date.now();
    const state = this.#logged.get('evicted');
    if (state !== undefined && now - state.at < refusalLogIntervalMs) {
      state.since++;
      return;
    }
    this.#logged.set('evicted', { at: now, since: 0 });
    this.#logger.warn(
      { peer: connection.peer ?? 'unknown', evictedSincePreviousLine: (state?.since ?? 0) + 1 },
      `limits.maxConnections (${this.#limits.maxConnections}) reached: the connection idle the longest was closed to make room`,
    );
  }

  /** Closes `connection` (GOAWAY NO_ERROR when it has a session: it has no stream open, or has not opened one). */
  #close(connection: Connection): void {
    if (connection.gone) return;
    connection.session?.destroy();
    connection.socket.destroy();
    this.#countOut(connection);
  }

  /** Counts `connection` out once, and stops its timers. */
  #countOut(connection: Connection): void {
    if (connection.gone) return;
    connection.gone = true;
    clearTimeout(connection.setupTimer);
    clearTimeout(connection.idleTimer);
    this.#idle.delete(connection);
    this.#open--;
    const peer = connection.peer;
    if (peer === undefined) return;
    const left = (this.#perPeer.get(peer) ?? 1) - 1;
    if (left <= 0) this.#perPeer.delete(peer);
    else this.#perPeer.set(peer, left);
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
        : limit === 'maxConnectionIdleMs'
          ? `connection closed: no stream open for limits.maxConnectionIdleMs (${this.#limits[limit]} ms)`
          : `connection refused: limits.${limit} (${this.#limits[limit]}) reached`,
    );
  }
}
