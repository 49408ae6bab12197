// The harness of the wire tests (rules S…, D…): one real XdsServer over a SnapshotCache on 127.0.0.1 for a suite,
// XdsTestClients that are closed whatever the test's outcome, and ClusterLoadAssignments with one loopback
// endpoint.
import { after, before } from 'node:test';
import type { SnapshotCache } from '@xds/cache';
import { makeClusterLoadAssignment } from '@xds/generator';
import { XdsServer } from '@xds/server';
import { XdsTestClient, type XdsTestClientOptions } from '@xds/testing';

/** The server a suite's tests talk to; read it inside the tests (it exists once the suite's `before` ran). */
export interface SuiteServer {
  /** The running server. */
  readonly server: XdsServer;
  /** Its `127.0.0.1:PORT`. */
  readonly address: string;
}

/**
 * Serves `cache` on 127.0.0.1 for the suite this is called in: the server starts in a `before` hook (after any
 * `before` registered earlier, so a test can fill the cache first) and closes in an `after` hook.
 */
export function serveCacheForSuite(cache: SnapshotCache): SuiteServer {
  let server: XdsServer | undefined;
  let address: string | undefined;
  before(async () => {
    server = new XdsServer({ cache });
    address = `127.0.0.1:${await server.listen('127.0.0.1:0')}`;
  });
  after(() => server?.close());
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the suite server is read before its before() hook ran');
    return value;
  };
  return {
    get server() {
      return started(server);
    },
    get address() {
      return started(address);
    },
  };
}

/** Runs `body` with a new XdsTestClient of `options` and closes the client afterwards, whatever `body` did. */
export async function withClient<T>(
  options: XdsTestClientOptions,
  body: (client: XdsTestClient) => Promise<T>,
): Promise<T> {
  const client = new XdsTestClient(options);
  try {
    return await body(client);
  } finally {
    await client.close();
  }
}

/** A ClusterLoadAssignment `name` with one endpoint, 127.0.0.1:`port`, in region r1. */
export function loopbackAssignment(name: string, port: number) {
  return makeClusterLoadAssignment(name, [
    { locality: { region: 'r1' }, weight: 1, endpoints: [{ address: '127.0.0.1', port }] },
  ]);
}
