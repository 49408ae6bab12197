/**
 * The admin port's connection slots (rule L2). The port holds at most `max` connections, so idle ones cannot take
 * the process's file descriptors; but a plain cap let one peer that keeps 256 kept-alive connections busy (a
 * `GET /healthz` every 2 s on each) take every slot, and every liveness probe was refused at accept, so an
 * orchestrator restarted a healthy server (probe finding Q8). Here, when the port is full, a new connection takes
 * the slot of the connection that has been waiting longest between requests (or since it connected) instead of
 * being refused; only when every connection is in the middle of a request is the new one closed. A request under
 * way is never cut. An attacker then has to keep every connection busy at once to refuse anyone, and a probe's
 * request, once its connection is in, is answered.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** One admitted connection. */
interface Slot {
  readonly socket: Socket;
  /** Requests under way on it. */
  busy: number;
  /** Counted out already (closed by its peer, by a timeout, or taken for another). */
  gone: boolean;
}

/** What {@link AdminSlots.stats} reports. */
export interface AdminSlotStats {
  /** Connections held now. */
  readonly open: number;
  /** Connections closed to make room for a new one, since start. */
  readonly reclaimed: number;
  /** New connections closed because every held one was in the middle of a request, since start. */
  readonly refused: number;
}

/** A connection's key, the same on the accepted socket and on the TLS socket made over it. */
function keyOf(socket: Pick<Socket, 'remoteAddress' | 'remotePort'>): string | undefined {
  if (socket.remoteAddress === undefined || socket.remotePort === undefined) return undefined;
  return `${socket.remoteAddress}|${socket.remotePort}`;
}

/** Holds an HTTP(S) server's connections within `max`, making room from idle ones. */
export class AdminSlots {
  readonly #max: number;
  readonly #onRefused: () => void;
  readonly #byKey = new Map<string, Slot>();
  /** Connections with no request under way, the one waiting longest first. */
  readonly #idle = new Set<Slot>();
  #open = 0;
  #reclaimed = 0;
  #refused = 0;

  /** `onRefused` is called for each new connection closed because no slot could be made free. */
  constructor(max: number, onRefused: () => void) {
    this.#max = max;
    this.#onRefused = onRefused;
  }

  /** Puts the slots in front of `server`'s `connection` listeners, and follows its requests. */
  attach(server: Server): void {
    const inner = server.listeners('connection') as ((socket: Socket) => void)[];
    for (const listener of inner) server.removeListener('connection', listener);
    server.on('connection', (socket: Socket) => {
      if (!this.#admit(socket)) return;
      for (const listener of inner) listener.call(server, socket);
    });
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      const key = keyOf(request.socket);
      const slot = key === undefined ? undefined : this.#byKey.get(key);
      if (slot === undefined || slot.gone) return;
      slot.busy++;
      this.#idle.delete(slot);
      response.once('close', () => {
        slot.busy--;
        if (slot.busy === 0 && !slot.gone) this.#idle.add(slot);
      });
    });
  }

  /** Connections held, taken for others, refused. */
  stats(): AdminSlotStats {
    return { open: this.#open, reclaimed: this.#reclaimed, refused: this.#refused };
  }

  #admit(socket: Socket): boolean {
    if (this.#open >= this.#max) {
      const [longest] = this.#idle;
      if (longest === undefined) {
        socket.destroy();
        this.#refused++;
        this.#onRefused();
        return false;
      }
      this.#reclaimed++;
      longest.socket.destroy();
      this.#countOut(longest);
    }
    const slot: Slot = { socket, busy: 0, gone: false };
    this.#open++;
    this.#idle.add(slot);
    const key = keyOf(socket);
    if (key !== undefined) this.#byKey.set(key, slot);
    socket.once('close', () => {
      if (key !== undefined && this.#byKey.get(key) === slot) this.#byKey.delete(key);
      this.#countOut(slot);
    });
    return true;
  }

  #countOut(slot: Slot): void {
    if (slot.gone) return;
    slot.gone = true;
    this.#idle.delete(slot);
    this.#open--;
  }
}
