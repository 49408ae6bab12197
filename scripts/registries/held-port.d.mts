// Types of held-port.mjs, for the TypeScript tests that keep one address across restarts of a server.

/** A loopback port held by this process, forwarding each connection to the server's current port. */
export interface HeldPort {
  /** The held port on 127.0.0.1. */
  readonly port: number;
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** New connections go to `127.0.0.1:target`; undefined: they are accepted and reset (nothing behind the port). */
  forwardTo(target: number | undefined): void;
  /** The port new connections go to. */
  target(): number | undefined;
  /** Resets every open connection and gives the port back. */
  close(): Promise<void>;
}

/** Holds a free loopback port in front of `target` (or of nothing yet). */
export declare function holdPort(target?: number): Promise<HeldPort>;
