import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import { RouteSchema } from './gen/envoy/config/route/v3/route_components_pb.js';
import { stringField } from './name-field.js';
import { defineResourceType, resourceTypes } from './resource-type.js';
import { ResourceTypes } from './resource-types.js';
import { TypeUrl } from './type-url.js';
import { XdsError } from './xds-error.js';

// A message the library does not serve, standing in for a user's own resource type.
const routeUrl = 'type.googleapis.com/envoy.config.route.v3.Route';
const opaqueUrl = 'type.googleapis.com/acme.quota.v1.Quota';

describe('ResourceTypes', () => {
  it('builtIn holds every built-in type in push order (S11)', () => {
    assert.deepEqual(
      ResourceTypes.builtIn.list().map((t) => t.typeUrl),
      resourceTypes.map((t) => t.typeUrl),
    );
    assert.deepEqual(
      [...ResourceTypes.builtIn].map((t) => t.typeUrl),
      Object.values(TypeUrl),
    );
    assert.ok(ResourceTypes.builtIn.get(TypeUrl.Cluster)?.builtIn);
  });

  it('with() returns a new set and leaves the old one as it was (no registration leaks)', () => {
    const types = ResourceTypes.builtIn.with({ typeUrl: routeUrl, schema: RouteSchema });
    assert.equal(types.size, ResourceTypes.builtIn.size + 1);
    assert.equal(ResourceTypes.builtIn.has(routeUrl), false);
    const route = types.require(routeUrl);
    assert.equal(route.builtIn, false);
    assert.equal(route.shortName, 'Route');
    assert.equal(route.wildcard, false);
    assert.equal(route.allRequiredInSotW, false);
    // Default push order: after every type registered before it.
    assert.equal(route.pushOrder, Math.max(...resourceTypes.map((t) => t.pushOrder)) + 1);
    const message = create(RouteSchema, { name: 'r-1' });
    assert.equal(types.ofMessage(message), route);
    assert.equal(ResourceTypes.builtIn.ofMessage(message), undefined);
    assert.equal(route.nameOf(message), 'r-1');
    assert.equal(route.nameOfBytes?.(toBinary(RouteSchema, message)), 'r-1');
    assert.ok(types.registry.getMessage('envoy.config.route.v3.Route'));
  });

  it('S9, S11: a registered type says whether it is wildcard-capable and where it goes in a push', () => {
    const types = ResourceTypes.builtIn.with(
      { typeUrl: opaqueUrl, wildcard: true, pushOrder: 0.5, nameOfBytes: stringField(1) },
      { typeUrl: routeUrl, schema: RouteSchema, nameOf: () => 'fixed' },
    );
    const order = types.list().map((t) => t.typeUrl);
    assert.equal(order.indexOf(opaqueUrl), order.indexOf(TypeUrl.Cluster) + 1);
    assert.equal(types.get(opaqueUrl)?.wildcard, true);
    assert.equal(types.get(opaqueUrl)?.schema, undefined);
    assert.equal(types.get(opaqueUrl)?.nameOfBytes?.(new Uint8Array([0x0a, 0x01, 0x71])), 'q');
    assert.equal(types.get(routeUrl)?.nameOf(create(RouteSchema, { name: 'x' })), 'fixed');
    assert.ok(types.pushOrder(TypeUrl.Cluster) < types.pushOrder(opaqueUrl));
    assert.equal(types.pushOrder('type.googleapis.com/nope.Nope'), Number.MAX_SAFE_INTEGER);
  });

  it('refuses a type twice, a schema that is not the URL`s, a malformed URL (InvalidArgument)', () => {
    assert.throws(() => ResourceTypes.builtIn.with({ typeUrl: TypeUrl.Cluster }), /already registered/);
    assert.throws(
      () =>
        ResourceTypes.builtIn.with({ typeUrl: routeUrl, schema: RouteSchema }).with({ typeUrl: routeUrl }),
      /already registered/,
    );
    assert.throws(
      () => ResourceTypes.builtIn.with({ typeUrl: 'type.googleapis.com/acme.Other', schema: RouteSchema }),
      (error: unknown) =>
        error instanceof XdsError && /the schema is envoy.config.route.v3.Route/.test(error.message),
    );
    for (const bad of ['', 'no-slash', 'type.googleapis.com/has space', 'type.googleapis.com/']) {
      assert.throws(() => defineResourceType({ typeUrl: bad }), /a type URL is/, bad);
    }
    assert.throws(() => ResourceTypes.builtIn.require(opaqueUrl), /not a known resource type/);
  });
});
