// Interop with real gRPC clients of different ages on configuration that @xds/generator makes from a service model,
// as xds-server serves it: gRPC C-core's own xDS client (Debian bookworm's python3-grpcio, C-core 1.51) and
// @grpc/grpc-js-xds. C-core 1.51 NACKs the whole RouteConfiguration for header matchers in `string_match`
// ("Invalid route header matcher specified") and for weighted clusters whose weights do not add up to an unset
// `total_weight`, which it reads as 100 ("RouteAction weighted_cluster has incorrect total weight"); the generator's
// gRPC output uses the fields every client reads (packages/generator/README.md, "Client compatibility").
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@grpc/grpc-js';
import { SnapshotCache } from '@xds/cache';
import { nodeKeyByFlavour } from '@xds/generator';
import { XdsServer } from '@xds/server';
import { type Backend, channel, startBackend, until, untilAll, which, whichPath } from './support/backend.js';
import { exampleGrpcBootstrap, useXdsServer } from './support/bootstrap.js';
import { provisionPython, runPythonScript } from './support/python.js';
import { publishModelText, reviewsModel, reviewsTarget } from './support/reviews-model.js';

interface CallResult {
  readonly code: string;
  readonly value?: string;
  readonly details?: string;
}

/** Weighted routes (1:1, not adding up to 100), after a route on a header matcher when `headerRoute`. */
function model(v1: number, v2: number, headerRoute: boolean): string {
  return reviewsModel(v1, v2, [
    ...(headerRoute
      ? ['- match: { prefix: /, headers: { end-user: { exact: jason } } }\n  to: [{ subset: v2 }]']
      : []),
    '- match: { prefix: / }\n  to: [{ subset: v1, weight: 1 }, { subset: v2, weight: 1 }]',
  ]);
}

/**
 * A model whose first route sends calls whose `content-type` meets `condition` to v2 and whose second sends the rest
 * to v1 (v2 at weight 0). gRPC clients present `content-type` to route matching as `application/grpc`.
 */
function headerModel(v1: number, v2: number, condition: string): string {
  return reviewsModel(v1, v2, [
    `- match: { prefix: /, headers: ${condition} }\n  to: [{ subset: v2 }]`,
    '- to: [{ subset: v1, weight: 3 }, { subset: v2, weight: 0 }]',
  ]);
}

/** Each header condition of the model language, and the backend a gRPC call gets through it. */
const conditions: readonly (readonly [string, 'v1' | 'v2'])[] = [
  ['{ content-type: { exact: application/grpc } }', 'v2'],
  ['{ content-type: { prefix: application/ } }', 'v2'],
  ['{ content-type: { suffix: /grpc } }', 'v2'],
  ["{ content-type: { regex: 'application/grpc(\\+[a-z]+)?' } }", 'v2'],
  ['{ content-type: { present: true } }', 'v2'],
  ['{ end-user: { present: false } }', 'v2'],
  ['{ content-type: { exact: application/json } }', 'v1'],
  ["{ content-type: { regex: 'text/.*' } }", 'v1'],
];

const target = reviewsTarget;

function publishTo(cache: SnapshotCache, text: string): void {
  publishModelText(cache, text, { flavours: ['grpc'] });
}

describe('gRPC C-core 1.51 xds resolver on generated configuration', () => {
  let backends: Backend[];
  let server: XdsServer;
  let cache: SnapshotCache;
  let port: number;

  const call = (nodeId: string) =>
    runPythonScript<CallResult>(
      'xds_call.py',
      ['--target', target, '--method', whichPath, '--timeout', '60'],
      { ...process.env, GRPC_XDS_BOOTSTRAP_CONFIG: JSON.stringify(exampleGrpcBootstrap(port, nodeId)) },
      90_000,
    );

  const publish = (text: string) => publishTo(cache, text);

  before(async () => {
    provisionPython();
    backends = [await startBackend('v1'), await startBackend('v2')];
    cache = new SnapshotCache({ nodeKey: nodeKeyByFlavour });
    server = new XdsServer({ cache, closeGraceMs: 500 });
    port = await server.listen('127.0.0.1:0');
  });

  after(async () => {
    await server?.close();
    await Promise.all((backends ?? []).map((b) => b.close()));
  });

  it('routes with weights that do not add up to 100', async () => {
    publish(model(backends[0]!.port, backends[1]!.port, false));
    const result = await call('core-weights');
    assert.equal(result.code, 'OK', result.details);
    assert.match(result.value ?? '', /^v[12]$/);
  });

  it('routes with a header matcher', async () => {
    publish(model(backends[0]!.port, backends[1]!.port, true));
    const result = await call('core-headers');
    assert.equal(result.code, 'OK', result.details);
  });

  it("NACKs routeFields grpc: 'current' (string_match, no total_weight): why gRPC output is 'compatible'", async () => {
    const current = (text: string) =>
      publishModelText(cache, text, { flavours: ['grpc'], routeFields: { grpc: 'current' } });
    current(model(backends[0]!.port, backends[1]!.port, true));
    const headers = await call('core-current-headers');
    assert.equal(headers.code, 'UNAVAILABLE');
    assert.match(headers.details ?? '', /Invalid route header matcher specified/);
    current(model(backends[0]!.port, backends[1]!.port, false));
    const weights = await call('core-current-weights');
    assert.equal(weights.code, 'UNAVAILABLE');
    assert.match(weights.details ?? '', /incorrect total weight/);
  });

  it('applies every header condition of the model as the generator writes it for gRPC', async () => {
    for (const [condition, expected] of conditions) {
      publish(headerModel(backends[0]!.port, backends[1]!.port, condition));
      const result = await call('core-conditions');
      assert.equal(result.code, 'OK', `${condition}: ${result.details}`);
      assert.equal(result.value, expected, condition);
    }
  });
});

describe('@grpc/grpc-js-xds on the same generated configuration', () => {
  let backends: Backend[];
  let server: XdsServer;
  let cache: SnapshotCache;
  let client: Client;

  before(async () => {
    backends = [await startBackend('v1'), await startBackend('v2')];
    cache = new SnapshotCache({ nodeKey: nodeKeyByFlavour });
    server = new XdsServer({ cache, closeGraceMs: 500 });
    await useXdsServer(await server.listen('127.0.0.1:0'), 'js-conditions');
    client = channel(target);
  });

  after(async () => {
    client?.close();
    await server?.close();
    await Promise.all((backends ?? []).map((b) => b.close()));
  });

  it('applies every header condition, and weights that do not add up to 100', async () => {
    for (const [condition, expected] of conditions) {
      publishTo(cache, headerModel(backends[0]!.port, backends[1]!.port, condition));
      await until(client, (name) => name === expected);
      // Settled: every call now takes that route (the other backend is at weight 0).
      for (let i = 0; i < 5; i++) assert.equal(await which(client), expected, condition);
    }
    publishTo(cache, model(backends[0]!.port, backends[1]!.port, false));
    assert.deepEqual(await untilAll(client, ['v1', 'v2']), ['v1', 'v2']);
  });
});
