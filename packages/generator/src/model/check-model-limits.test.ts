// The model limits applied to a built model (rule L2, review R5): what a server merges from a file and registries
// is bounded like a file, and a model a file could hold is never refused for its size.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { bookinfoFile } from '../test-bookinfo.js';
import { modelLimitIssues, modelLimitIssuesAsync } from './check-model-limits.js';
import { parseModel } from './parse.js';
import type { Service, ServiceEndpoint, ServiceModel } from './types.js';

function endpoint(i: number, labels: Record<string, string> = { app: 'a' }): ServiceEndpoint {
  return {
    address: `10.0.${i >> 8}.${i & 255}`,
    ports: {},
    labels,
    locality: { region: '', zone: '', subZone: '' },
    weight: 1,
    healthy: true,
    priority: 0,
  };
}

function service(name: string, endpoints: number, subsets = 0, ports = 1): Service {
  return {
    name,
    namespace: 'default',
    addresses: [],
    ports: Array.from({ length: ports }, (_, i) => ({ name: `http-${i}`, port: 8000 + i, protocol: 'HTTP' })),
    endpoints: Array.from({ length: endpoints }, (_, i) => endpoint(i)),
    subsets: Array.from({ length: subsets }, (_, i) => ({ name: `v${i}`, labels: { app: 'a' } })),
    routes: [],
  };
}

function built(...services: Service[]): ServiceModel {
  return { domain: 'cluster.local', services };
}

/** The smallest maxNodes parseModel accepts `text` with. */
function leastNodes(text: string): number {
  let low = 1;
  let high = 1_000_000;
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if (parseModel(text, { limits: { maxNodes: mid } }).ok) high = mid;
    else low = mid + 1;
  }
  return low;
}

describe('model limits on a built model', () => {
  it('L2: two services that each pass alone pass maxGeneratedEndpoints together, named at the second', () => {
    const limits = { maxGeneratedEndpoints: 100 };
    assert.deepEqual(modelLimitIssues(built(service('a', 60)), limits), []);
    const issues = modelLimitIssues(built(service('a', 60), service('b', 60)), limits);
    assert.equal(issues.length, 1);
    assert.deepEqual(issues[0]!.path, ['services', 1]);
    assert.match(issues[0]!.message, /more than 100 endpoints.*the limit is maxGeneratedEndpoints/);
  });

  it('L2: subsets multiply the endpoints a merge brings (each selects all of them)', () => {
    const issues = modelLimitIssues(built(service('a', 30, 3)), { maxGeneratedEndpoints: 100 });
    assert.deepEqual(issues[0]?.path, ['services', 0]);
    assert.match(issues[0]!.message, /maxGeneratedEndpoints/);
  });

  it('L2: clusters, subsets per service and values are bounded too', () => {
    assert.match(
      modelLimitIssues(built(service('a', 0, 2, 3)), { maxGeneratedClusters: 8 })[0]?.message ?? '',
      /9 clusters .*maxGeneratedClusters/,
    );
    const subsets = modelLimitIssues(built(service('a', 1), service('b', 1, 300)));
    assert.deepEqual(subsets[0]?.path, ['services', 1, 'subsets']);
    assert.match(subsets[0]!.message, /300 subsets, more than 256; the limit is maxSubsetsPerService/);
    const labels = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, 'v']));
    const big = { ...service('b', 0), endpoints: Array.from({ length: 10 }, (_, i) => endpoint(i, labels)) };
    const size = modelLimitIssues(built(service('a', 1), big), { maxNodes: 1000 });
    assert.deepEqual(size[0]?.path, ['services', 1]);
    assert.match(size[0]!.message, /more than 1,000 values .*the limit is maxNodes/);
  });

  it('L2: a model a file holds within maxNodes passes maxNodes built (defaults are not counted)', () => {
    const bookinfo = readFileSync(bookinfoFile, 'utf8');
    const sparse = [
      'services:',
      '  - name: s',
      '    ports: [{ port: 80 }, { name: grpc-api, port: 81 }, { port: 82, protocol: HTTP }]',
      '    endpoints: [{ address: 10.0.0.1 }, { address: 10.0.0.2, labels: { v: "1" }, weight: 2 }]',
      '    routes: [{ to: [{ subset: v1 }] }]',
      '    subsets: [{ name: v1, labels: { v: "1" } }]',
    ].join('\n');
    for (const text of [bookinfo, sparse]) {
      const least = leastNodes(text);
      const parsed = parseModel(text);
      assert.ok(parsed.ok);
      assert.deepEqual(modelLimitIssues(parsed.model, { maxNodes: least }), []);
    }
  });

  it('L4: the sliced check gives the event loop turns and finds the same issue', async () => {
    const model = built(...Array.from({ length: 20 }, (_, i) => service(`s${i}`, 1000)));
    let pauses = 0;
    const issues = await modelLimitIssuesAsync(
      model,
      { maxGeneratedEndpoints: 15_000 },
      { sliceMs: 0, onPause: () => pauses++ },
    );
    assert.deepEqual(issues, modelLimitIssues(model, { maxGeneratedEndpoints: 15_000 }));
    assert.deepEqual(issues[0]?.path, ['services', 15]);
    assert.ok(pauses >= 20, `${pauses} pauses`);
  });
});
