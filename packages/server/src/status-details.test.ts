// Rule L2 for what the server sends back: a status message that quotes the client's text (a node id, a type URL) is
// bounded. Before, a Fetch with a 65 KB node id was answered UNAVAILABLE "no … resources for node "<the id>" yet":
// a grpc-message header field past 64 KiB, which the client's HPACK decoder (nghttp2, in Node and grpc-js) rejects
// with COMPRESSION_ERROR, killing the connection, so the call and every other call on it hung (the fuzzer's
// finding 2, docs/fuzzing.md). Fetch now holds node ids to limits.maxNodeIdBytes as streams do, and every status
// message is cut to maxStatusDetailsBytes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import { credentials, makeGenericClientConstructor, type ServiceError, status } from '@grpc/grpc-js';
import { DiscoveryRequestSchema, discoveryMethods, TypeUrl } from '@xds/api';
import { maxStatusDetailsBytes } from './status.js';
import { type Harness, start } from './test-harness.js';

const fetchClusters = discoveryMethods.find((m) => m.typeUrl === TypeUrl.Cluster && m.kind === 'fetch')!.path;

interface Ended {
  readonly code: number;
  readonly details: string;
}

/** A grpc-js client that makes Fetch calls on one connection. */
class FetchClient {
  readonly #client: InstanceType<ReturnType<typeof makeGenericClientConstructor>>;

  constructor(address: string) {
    const Client = makeGenericClientConstructor({}, 'Fetch');
    this.#client = new Client(address, credentials.createInsecure());
  }

  /** FetchClusters as `nodeId` (and `typeUrl`); resolves with its status (a deadline of 60 s: a hang fails). */
  fetch(nodeId: string, typeUrl = ''): Promise<Ended> {
    const body = toBinary(
      DiscoveryRequestSchema,
      create(DiscoveryRequestSchema, { node: { id: nodeId }, typeUrl }),
    );
    return new Promise((resolve) => {
      this.#client.makeUnaryRequest(
        fetchClusters,
        (b: Uint8Array) => Buffer.from(b),
        (b: Buffer) => b,
        body,
        { deadline: Date.now() + 60_000 },
        (error: ServiceError | null) =>
          resolve({ code: error?.code ?? status.OK, details: error?.details ?? '' }),
      );
    });
  }

  close(): void {
    this.#client.close();
  }
}

describe('status messages', () => {
  let h: Harness;
  before(async () => {
    h = await start();
  });
  after(async () => {
    await h.close();
  });

  it('L2: a Fetch whose node id is past maxNodeIdBytes gets INVALID_ARGUMENT naming the limit', async () => {
    const client = new FetchClient(h.address);
    try {
      const ended = await client.fetch('*'.repeat(65_610));
      assert.equal(ended.code, status.INVALID_ARGUMENT, ended.details.slice(0, 200));
      assert.equal(ended.details, 'node.id is 65610 bytes, over limits.maxNodeIdBytes (4096)');
      // The connection lives on: the same client is served.
      const next = await client.fetch('n1');
      assert.equal(next.code, status.OK, next.details);
    } finally {
      client.close();
    }
  });

  it('L2: a status message quoting the client is cut to maxStatusDetailsBytes, and the connection lives on', async () => {
    const client = new FetchClient(h.address);
    try {
      const typeUrl = `type.googleapis.com/${'x'.repeat(100_000)}`;
      const ended = await client.fetch('n1', typeUrl);
      assert.equal(ended.code, status.INVALID_ARGUMENT, ended.details.slice(0, 200));
      assert.ok(ended.details.startsWith('type_url type.googleapis.com/xxx'), ended.details.slice(0, 80));
      const full = `type_url ${typeUrl} cannot be requested on ${fetchClusters}`.length;
      assert.ok(
        ended.details.endsWith(`… [cut: ${full} bytes, kept ${maxStatusDetailsBytes}]`),
        ended.details.slice(-80),
      );
      const next = await client.fetch('n1');
      assert.equal(next.code, status.OK, next.details);
    } finally {
      client.close();
    }
  });
});
