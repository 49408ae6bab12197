// The `routeFields` generator option: each flavour's default, overriding it, and a memo shared between generations
// that never hands one generation's routes to the other.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RouteConfiguration } from '@xds/api';
import { bookinfo } from '../test-bookinfo.js';
import { split } from '../test-resources.js';
import { generateEnvoy } from './envoy.js';
import { defaultRouteFields, routeFieldsFor } from './generate-options.js';
import { generateGrpc } from './grpc.js';
import { ResourceMemo } from './memo.js';

/** The header matcher kind and total_weight of the reviews routes (jason's header route, then the split). */
function reviewsFields(routes: readonly RouteConfiguration[]): [string | undefined, number | undefined] {
  const host = routes
    .flatMap((r) => r.virtualHosts)
    .find((v) => v.name === 'reviews.default.svc.cluster.local:9080');
  const [jason, split] = host?.routes ?? [];
  const action = split?.action.case === 'route' ? split.action.value.clusterSpecifier : undefined;
  return [
    jason?.match?.headers[0]?.headerMatchSpecifier.case,
    action?.case === 'weightedClusters' ? action.value.totalWeight : undefined,
  ];
}

describe('routeFields', () => {
  it('defaults: Envoy gets string_match and no total_weight, gRPC clients the fields every release reads', () => {
    assert.deepEqual(defaultRouteFields, { envoy: 'current', grpc: 'compatible' });
    const memo = new ResourceMemo();
    assert.deepEqual(reviewsFields(split(generateEnvoy(bookinfo(), { memo })).routes), [
      'stringMatch',
      undefined,
    ]);
    assert.deepEqual(reviewsFields(split(generateGrpc(bookinfo(), { memo })).routes), ['exactMatch', 100]);
  });

  it('each flavour can be switched, and a shared memo keeps the generations apart', () => {
    const memo = new ResourceMemo();
    const flipped = { routeFields: { envoy: 'compatible', grpc: 'current' } } as const;
    // Build the defaults first, so that a memo keyed without the generation would return them again.
    generateEnvoy(bookinfo(), { memo });
    generateGrpc(bookinfo(), { memo });
    assert.deepEqual(reviewsFields(split(generateEnvoy(bookinfo(), { memo, ...flipped })).routes), [
      'exactMatch',
      100,
    ]);
    assert.deepEqual(reviewsFields(split(generateGrpc(bookinfo(), { memo, ...flipped })).routes), [
      'stringMatch',
      undefined,
    ]);
    // And back: the defaults again, the very objects built the first time.
    const first = split(generateGrpc(bookinfo(), { memo })).routes;
    assert.deepEqual(reviewsFields(first), ['exactMatch', 100]);
    assert.equal(split(generateGrpc(bookinfo(), { memo })).routes[0], first[0]);
  });

  it('a value that is not a generation is a TypeError naming the flavour', () => {
    const bad = { routeFields: { grpc: 'legacy' } } as unknown as Parameters<typeof routeFieldsFor>[0];
    assert.throws(
      () => routeFieldsFor(bad, 'grpc'),
      /routeFields\.grpc must be 'current' or 'compatible', got legacy/,
    );
    assert.throws(() => generateGrpc(bookinfo(), bad), TypeError);
  });
});
