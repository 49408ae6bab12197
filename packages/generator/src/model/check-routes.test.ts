// Route values that every client would NACK (or read differently) are model errors with file, line and path, not a
// RouteConfiguration that Envoy and gRPC clients refuse as a whole (check-routes.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMessage } from '@bufbuild/protobuf';
import { RouteConfigurationSchema } from '@xds/api';
import { generateGrpc } from '../generate/grpc.js';
import { ResourceMemo } from '../generate/memo.js';
import type { ModelError } from './model-error.js';
import { parseModel } from './parse.js';

function model(routes: readonly string[]): string {
  return [
    'services:', //                                                          1
    '  - name: reviews', //                                                  2
    '    ports: [{ name: grpc, port: 9080 }]', //                            3
    '    endpoints:', //                                                     4
    '      - { address: 127.0.0.1, labels: { version: v1 } }', //            5
    '      - { address: 127.0.0.2, labels: { version: v2 } }', //            6
    '    subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }]', // 7
    '    routes:', //                                                        8
    ...routes, //                                                            9…
  ].join('\n');
}

/** A service with one subset per weight (all on one endpoint) and one route to all of them, on line 7. */
function manySubsets(weights: readonly number[]): string {
  return [
    'services:', //                                                          1
    '  - name: reviews', //                                                  2
    '    ports: [{ name: grpc, port: 9080 }]', //                            3
    '    endpoints: [{ address: 127.0.0.1, labels: { version: v1 } }]', //   4
    `    subsets: [${weights.map((_, i) => `{ name: s${i}, labels: { version: v1 } }`).join(', ')}]`, // 5
    '    routes:', //                                                        6
    `      - to: [${weights.map((w, i) => `{ subset: s${i}, weight: ${w} }`).join(', ')}]`, // 7
  ].join('\n');
}

/** A model with thousands of subsets (for weights past uint32) needs maxSubsetsPerService raised. */
const manySubsetsAllowed = { maxSubsetsPerService: 5_000 };

function errorsOf(text: string): readonly ModelError[] {
  const result = parseModel(text, { file: 'mesh.yaml', limits: manySubsetsAllowed });
  assert.equal(result.ok, false, 'the model should not be valid');
  return result.ok ? [] : result.errors;
}

describe('route checks', () => {
  it('weights that add up to 0 name the file, line and field', () => {
    const [error, ...more] = errorsOf(
      model(['      - to: [{ subset: v1, weight: 0 }, { subset: v2, weight: 0 }]']),
    );
    assert.deepEqual(more, []);
    assert.deepEqual([error?.file, error?.line, error?.path], ['mesh.yaml', 9, 'services[0].routes[0].to']);
    assert.match(error?.message ?? '', /the weights add up to 0/);
  });

  it('weights that add up past uint32 (each within its range, every subset distinct) name the file, line and field', () => {
    // 4,295 subsets of weight 1,000,000 add up to 4,295,000,000 > 4,294,967,295.
    const errors = errorsOf(manySubsets(Array.from({ length: 4295 }, () => 1_000_000)));
    assert.deepEqual(
      errors.map((e) => [e.file, e.line, e.path, e.message]),
      [
        [
          'mesh.yaml',
          7,
          'services[0].routes[0].to',
          'the weights add up to 4,295,000,000, more than 4,294,967,295 (uint32), which every client rejects',
        ],
      ],
    );
  });

  it('weights that add up to exactly the uint32 maximum are accepted, and gRPC clients get that total_weight', () => {
    // 4,294 × 1,000,000 + 967,295 = 4,294,967,295.
    const result = parseModel(manySubsets([...Array.from({ length: 4294 }, () => 1_000_000), 967_295]), {
      limits: manySubsetsAllowed,
    });
    assert.ok(result.ok, JSON.stringify(result.ok ? [] : result.errors.slice(0, 3)));
    const route = generateGrpc(result.model, { memo: new ResourceMemo() }).find((m) =>
      isMessage(m, RouteConfigurationSchema),
    );
    const action = route?.virtualHosts[0]?.routes[0]?.action;
    const specifier = action?.case === 'route' ? action.value.clusterSpecifier : undefined;
    assert.equal(specifier?.case === 'weightedClusters' && specifier.value.totalWeight, 4_294_967_295);
  });

  it('one subset listed twice in a route is an error at the second entry', () => {
    const [error, ...more] = errorsOf(
      model(['      - to: [{ subset: v1, weight: 1 }, { subset: v2 }, { subset: v1, weight: 3 }]']),
    );
    assert.deepEqual(more, []);
    assert.deepEqual([error?.line, error?.path], [9, 'services[0].routes[0].to[2]']);
    assert.equal(
      error?.message,
      'subset "v1" is already a destination of this route (to[0]); give it one entry with the weights added up',
    );
  });

  it('the whole service listed twice is an error too', () => {
    const errors = errorsOf(model(['      - to: [{ weight: 1 }, { weight: 2 }]']));
    assert.deepEqual(
      errors.map((e) => [e.path, e.message]),
      [
        [
          'services[0].routes[0].to[1]',
          'the whole service is already a destination of this route (to[0]); give it one entry with the weights added up',
        ],
      ],
    );
  });

  it('an empty header prefix, suffix or regex names the file, line and field', () => {
    const errors = errorsOf(
      model([
        '      - match:', //                                           9
        '          headers:', //                                       10
        "            a: { prefix: '' }", //                            11
        "            b: { suffix: '' }", //                            12
        "            c: { regex: '' }", //                             13
        "            d: { exact: '' }", //                             14 fine: the header is present and empty
        '        to: [{ subset: v1 }]',
      ]),
    );
    assert.deepEqual(
      errors.map((e) => [e.line, e.path, e.message]),
      [
        [
          11,
          'services[0].routes[0].match.headers.a.prefix',
          'an empty prefix is rejected by Envoy and gRPC clients; write present: true',
        ],
        [
          12,
          'services[0].routes[0].match.headers.b.suffix',
          'an empty suffix is rejected by Envoy and gRPC clients; write present: true',
        ],
        [
          13,
          'services[0].routes[0].match.headers.c.regex',
          "an empty regex is rejected by Envoy and gRPC clients; write '^$' to match an empty value, or present: true",
        ],
      ],
    );
  });

  it('an empty exact is valid and reaches gRPC clients as the regex ^$', () => {
    const result = parseModel(
      model(["      - match: { headers: { d: { exact: '' } } }", '        to: [{ subset: v1 }]']),
    );
    assert.ok(result.ok, JSON.stringify(result));
    const route = generateGrpc(result.model, { memo: new ResourceMemo() }).find((m) =>
      isMessage(m, RouteConfigurationSchema),
    );
    const header = route?.virtualHosts[0]?.routes[0]?.match?.headers[0]?.headerMatchSpecifier;
    assert.equal(header?.case === 'safeRegexMatch' && header.value.regex, '^$');
  });
});
