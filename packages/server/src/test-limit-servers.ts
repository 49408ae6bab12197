// Helpers for the tests of request limits over a real server (rule L2): servers started with given limits and a
// raw HTTP/2 connection to each, closed together; one request on a stream of its own and how the stream ended.
import { type Harness, start } from './test-harness.js';
import { grpcFrame, RawConnection, type RawEnd } from './test-raw-client.js';

/** Servers a test file starts, each with a raw connection; `close` ends them all. */
export function limitServers() {
  const harnesses: Harness[] = [];
  const connections: RawConnection[] = [];
  return {
    /** A server with these limits (the rest default) and a raw connection to it. */
    async start(limits: Record<string, number> = {}): Promise<[Harness, RawConnection]> {
      const h = await start({ limits });
      harnesses.push(h);
      const connection = new RawConnection(Number(h.address.split(':')[1]));
      connections.push(connection);
      return [h, connection];
    },
    async close(): Promise<void> {
      for (const connection of connections) connection.close();
      await Promise.all(harnesses.map((h) => h.close()));
    },
  };
}

/** Sends `bytes` as the only request of a new stream on `path`, ends its side, and resolves with how it ended. */
export async function onlyRequest(
  connection: RawConnection,
  path: string,
  bytes: Uint8Array,
): Promise<RawEnd> {
  const stream = connection.open(path);
  stream.write(grpcFrame(bytes));
  stream.stream.end();
  return stream.end(30_000);
}
