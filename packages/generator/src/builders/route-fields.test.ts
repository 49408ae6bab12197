// The two route field generations (route-fields.ts): what each writes for header matchers and weighted clusters,
// and the values no client accepts, refused when built.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { type Route, RouteConfigurationSchema } from '@xds/api';
import { type HeaderMatchSpec, makeHeaderMatcher } from './header-matcher.js';
import { makeRoute, makeRouteConfiguration } from './route-configuration.js';
import { maxTotalWeight } from './route-fields.js';

function weighted(route: Route) {
  const action = route.action.case === 'route' ? route.action.value.clusterSpecifier : undefined;
  return action?.case === 'weightedClusters' ? action.value : undefined;
}

const kinds: readonly [HeaderMatchSpec, string, string, unknown][] = [
  [{ exact: 'jason' }, 'exactMatch', 'exact', 'jason'],
  [{ prefix: 'ja' }, 'prefixMatch', 'prefix', 'ja'],
  [{ suffix: 'on' }, 'suffixMatch', 'suffix', 'on'],
  [{ regex: 'j.*n' }, 'safeRegexMatch', 'safeRegex', 'j.*n'],
];

describe('makeHeaderMatcher', () => {
  it("'current' (the default) writes every value condition in string_match", () => {
    for (const [spec, , pattern, value] of kinds) {
      const specifier = makeHeaderMatcher('h', spec).headerMatchSpecifier;
      assert.equal(specifier.case, 'stringMatch', JSON.stringify(spec));
      const match = specifier.case === 'stringMatch' ? specifier.value.matchPattern : undefined;
      assert.equal(match?.case, pattern);
      assert.deepEqual(match?.case === 'safeRegex' ? match.value.regex : match?.value, value);
    }
  });

  it("'compatible' writes the per-kind fields that gRPC clients older than gRFC A63 read", () => {
    for (const [spec, field, , value] of kinds) {
      const specifier = makeHeaderMatcher('h', spec, { fields: 'compatible' }).headerMatchSpecifier;
      assert.equal(specifier.case, field, JSON.stringify(spec));
      assert.deepEqual(specifier.case === 'safeRegexMatch' ? specifier.value.regex : specifier.value, value);
    }
  });

  it("'compatible' writes an empty exact as the regex ^$ (grpc-go took an empty exact_match for no matcher)", () => {
    const specifier = makeHeaderMatcher('h', { exact: '' }, { fields: 'compatible' }).headerMatchSpecifier;
    assert.equal(specifier.case === 'safeRegexMatch' && specifier.value.regex, '^$');
    const current = makeHeaderMatcher('h', { exact: '' }).headerMatchSpecifier;
    assert.equal(current.case === 'stringMatch' && current.value.matchPattern.case, 'exact');
  });

  it('present and absent are present_match, inverted for absent, in both generations', () => {
    for (const fields of ['current', 'compatible'] as const) {
      const present = makeHeaderMatcher('h', { present: true }, { fields });
      assert.deepEqual(present.headerMatchSpecifier, { case: 'presentMatch', value: true });
      assert.equal(present.invertMatch, false);
      const absent = makeHeaderMatcher('h', { present: false }, { fields });
      assert.deepEqual(absent.headerMatchSpecifier, { case: 'presentMatch', value: true });
      assert.equal(absent.invertMatch, true);
    }
  });

  it('refuses a spec with no condition or two, and an empty prefix, suffix or regex', () => {
    assert.throws(() => makeHeaderMatcher('h', {}), TypeError);
    assert.throws(() => makeHeaderMatcher('h', { exact: 'a', prefix: 'b' }), TypeError);
    for (const spec of [{ prefix: '' }, { suffix: '' }, { regex: '' }]) {
      assert.throws(() => makeHeaderMatcher('h', spec, { fields: 'compatible' }), /reject an empty/);
      assert.throws(() => makeHeaderMatcher('h', spec), /reject an empty/);
    }
  });
});

describe('weighted clusters', () => {
  const clusters = [
    { name: 'v1', weight: 1 },
    { name: 'v2', weight: 2 },
    { name: 'v3', weight: 0 },
  ];

  it("'current' (the default) leaves the deprecated total_weight unset", () => {
    const wc = weighted(makeRoute({ clusters }));
    assert.deepEqual(
      wc?.clusters.map((c) => [c.name, c.weight]),
      [
        ['v1', 1],
        ['v2', 2],
        ['v3', 0],
      ],
    );
    assert.equal(wc?.totalWeight, undefined);
  });

  it("'compatible' sets total_weight to the sum of the weights, which survives the wire", () => {
    const rc = makeRouteConfiguration(
      { name: 'rc', virtualHosts: [{ name: 'vh', domains: ['a'], routes: [{ clusters }] }] },
      { fields: 'compatible' },
    );
    const decoded = fromBinary(RouteConfigurationSchema, toBinary(RouteConfigurationSchema, rc));
    const wc = weighted(decoded.virtualHosts[0]!.routes[0]!);
    assert.equal(wc?.totalWeight, 3);
    assert.deepEqual(
      wc?.clusters.map((c) => c.weight),
      [1, 2, 0],
      'a weight of 0 stays set (clients NACK a cluster without weight)',
    );
  });

  it('a total up to the uint32 maximum is kept exact, not scaled', () => {
    const big = [
      { name: 'a', weight: maxTotalWeight - 1 },
      { name: 'b', weight: 1 },
    ];
    assert.equal(
      weighted(makeRoute({ clusters: big }, { fields: 'compatible' }))?.totalWeight,
      maxTotalWeight,
    );
  });

  it('refuses weights that add up to 0 or past uint32, and weights that are not uint32', () => {
    for (const fields of ['current', 'compatible'] as const) {
      assert.throws(
        () => makeRoute({ clusters: [{ name: 'a', weight: 0 }] }, { fields }),
        /add up to 0; clients accept 1\.\.4294967295/,
      );
      assert.throws(
        () =>
          makeRoute(
            {
              clusters: [
                { name: 'a', weight: maxTotalWeight },
                { name: 'b', weight: 1 },
              ],
            },
            { fields },
          ),
        /add up to 4294967296/,
      );
      for (const weight of [-1, 1.5, maxTotalWeight + 1, Number.NaN])
        assert.throws(() => makeRoute({ clusters: [{ name: 'a', weight }] }, { fields }), /is not a uint32/);
    }
  });
});

describe('makeRouteConfiguration with fields', () => {
  it('passes the generation down to every virtual host, route and header matcher', () => {
    const rc = makeRouteConfiguration(
      {
        name: 'rc',
        virtualHosts: [
          {
            name: 'vh',
            domains: ['a'],
            routes: [
              {
                match: { headers: { 'x-user': { exact: 'jason' } } },
                clusters: [
                  { name: 'v1', weight: 1 },
                  { name: 'v2', weight: 2 },
                ],
              },
            ],
          },
        ],
      },
      { fields: 'compatible' },
    );
    const route = rc.virtualHosts[0]!.routes[0]!;
    assert.equal(route.match?.headers[0]?.headerMatchSpecifier.case, 'exactMatch');
    assert.equal(weighted(route)?.totalWeight, 3);
  });
});
