// --keepalive-time-ms and --keepalive-timeout-ms reach the wire: the real `xds-server` process pings a connection
// after the set time, and closes one whose ping goes unanswered. The client is a raw HTTP/2 peer over loopback (a
// TCP socket that writes the preface and SETTINGS itself), because Node's and grpc-js's clients answer every ping.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type ServerProcess, startServerProcess } from './demo/server-process.js';

const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const frameTypes = { settings: 4, ping: 6, goaway: 7 } as const;
const ack = 1;

/** One HTTP/2 frame header and payload. */
interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly payload: Buffer;
}

function frame(type: number, flags: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  return Buffer.concat([header, payload]);
}

/** A raw HTTP/2 client that acknowledges SETTINGS, never answers a PING, and keeps every frame it reads in order. */
class SilentPeer {
  readonly frames: Frame[] = [];
  readonly closed: Promise<void>;
  readonly #socket: Socket;
  #buffered = Buffer.alloc(0);

  constructor(address: string) {
    const [host, port] = [
      address.slice(0, address.lastIndexOf(':')),
      address.slice(address.lastIndexOf(':') + 1),
    ];
    this.#socket = connect(Number(port), host);
    this.#socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => this.#socket.once('close', () => resolve()));
    this.#socket.write(Buffer.concat([preface, frame(frameTypes.settings, 0)]));
    this.#socket.on('data', (data: Buffer) => this.#read(data));
  }

  #read(data: Buffer): void {
    this.#buffered = Buffer.concat([this.#buffered, data]);
    while (this.#buffered.length >= 9) {
      const length = this.#buffered.readUIntBE(0, 3);
      if (this.#buffered.length < 9 + length) return;
      const read: Frame = {
        type: this.#buffered[3]!,
        flags: this.#buffered[4]!,
        payload: this.#buffered.subarray(9, 9 + length),
      };
      this.#buffered = this.#buffered.subarray(9 + length);
      this.frames.push(read);
      if (read.type === frameTypes.settings && (read.flags & ack) === 0)
        this.#socket.write(frame(frameTypes.settings, ack));
    }
  }

  /** The pings the server sent (not acknowledgements of ours: this peer sends none). */
  pings(): Frame[] {
    return this.frames.filter((f) => f.type === frameTypes.ping && (f.flags & ack) === 0);
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

/** Resolves when `closed` settles, rejects after `timeoutMs` with `what`. */
async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describe('xds-server keepalive flags', () => {
  let server: ServerProcess;

  before(async () => {
    server = await startServerProcess([
      '--xds',
      '127.0.0.1:0',
      '--admin',
      '127.0.0.1:0',
      '--keepalive-time-ms',
      '300',
      '--keepalive-timeout-ms',
      '1500',
    ]);
  });

  after(async () => {
    await server?.process.stop('SIGKILL');
  });

  it('logs the keepalive it runs with', () => {
    const started = server.logs.find((line) => typeof line['xds'] === 'string' && 'keepalive' in line);
    assert.deepEqual(started?.['keepalive'], { timeMs: 300, timeoutMs: 1500 });
  });

  it('pings a connection with no stream, and closes it when the ping is not answered', async () => {
    const peer = new SilentPeer(server.xdsAddress);
    try {
      // a deadline, not a wait: the default keepalive (2 min) would send no ping within it
      await within(peer.closed, 60_000, 'close of the connection that does not answer pings');
      const pings = peer.pings();
      assert.ok(pings.length >= 1, `the server sent no ping before closing: ${JSON.stringify(peer.frames)}`);
      // the close came from the keepalive, after the unanswered ping, not from an error of ours (no GOAWAY with an
      // error code other than a ping timeout's plain close)
      const firstPing = peer.frames.indexOf(pings[0]!);
      const goaways = peer.frames.filter((f) => f.type === frameTypes.goaway);
      assert.ok(
        goaways.every((f) => peer.frames.indexOf(f) > firstPing),
        'goaways.every((f) => peer.frames.indexOf(f) > firstPing)',
      );
    } finally {
      peer.destroy();
    }
  });
});
