import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServiceModelInput } from './types.js';
import { validateModel } from './validate.js';

describe('validateModel', () => {
  it('accepts a TypeScript model and fills in defaults', () => {
    const input: ServiceModelInput = {
      services: [
        {
          name: 'greeter',
          ports: [{ name: 'grpc', port: 50051 }],
          endpoints: [{ address: '127.0.0.1', port: 50052, labels: { version: 'v1' } }],
          subsets: [{ name: 'v1', labels: { version: 'v1' } }],
          routes: [
            { to: [{ subset: 'v1' }], timeout: '1m30s', retries: { attempts: 2, perTryTimeout: '150ms' } },
          ],
        },
      ],
    };
    const result = validateModel(input);
    assert.ok(result.ok, JSON.stringify(result));
    const [service] = result.model.services;
    assert.equal(result.model.domain, 'cluster.local');
    assert.equal(service?.namespace, 'default');
    assert.deepEqual(service?.ports, [{ name: 'grpc', port: 50051, protocol: 'GRPC' }]);
    assert.deepEqual(service?.routes, [
      {
        match: { prefix: '/', headers: {} },
        to: [{ subset: 'v1', weight: 1 }],
        timeoutMs: 90_000,
        retries: { attempts: 2, perTryTimeoutMs: 150 },
      },
    ]);
  });

  it('reports the same errors as parseModel, with paths and without positions', () => {
    const result = validateModel({
      services: [
        { name: 'a', ports: [{ port: 0, protocl: 'HTTP' }], routes: [{ to: [{ subset: 'x', weight: 0 }] }] },
        { name: 'a', ports: [{ port: 80 }] },
      ],
    });
    assert.equal(result.ok, false);
    const errors = result.ok ? [] : result.errors;
    assert.deepEqual(errors, [
      { path: 'services[0].ports[0].port', message: '0 is out of range 1..65535' },
      { path: 'services[0].ports[0].protocl', message: 'unknown field "protocl" (did you mean "protocol"?)' },
      {
        path: 'services[0].routes',
        message: 'routes apply to HTTP, HTTP2 and GRPC ports, and a.default has none',
      },
      {
        path: 'services[0].routes[0].to[0].subset',
        message: 'no subset named "x" in a.default (it has no subsets)',
      },
      {
        path: 'services[0].routes[0].to',
        message: 'the weights add up to 0; at least one destination needs a weight above 0',
      },
      {
        path: 'services[1].name',
        message: 'service "a" in namespace "default" is defined twice (also services[0])',
      },
    ]);
  });

  it('rejects what is not a model', () => {
    for (const value of [undefined, null, 42, 'services', []]) {
      const result = validateModel(value);
      assert.equal(result.ok, false);
      assert.equal(result.ok ? '' : result.errors[0]?.path, '');
    }
    const wrong = validateModel({ services: 'none' });
    assert.deepEqual(wrong.ok ? [] : wrong.errors, [
      { path: 'services', message: 'expected a list, got a string ("none")' },
    ]);
  });

  it('allows services with the same name in different namespaces, leaving shared short names to the generator', () => {
    const result = validateModel({
      services: [
        { name: 'web', namespace: 'a', ports: [{ name: 'http', port: 80 }] },
        { name: 'web', namespace: 'b', ports: [{ name: 'http', port: 80 }] },
      ],
    });
    assert.ok(result.ok, JSON.stringify(result));
  });

  it('flags endpoints duplicated through per-port overrides and header names that are not names', () => {
    const result = validateModel({
      services: [
        {
          name: 'multi',
          ports: [
            { name: 'http', port: 80 },
            { name: 'grpc', port: 81 },
          ],
          endpoints: [
            { address: '10.0.0.1', ports: { http: 8080, grpc: 8081 } },
            { address: '10.0.0.1', port: 8081 },
          ],
          routes: [{ match: { headers: { 'bad name': { present: true } } }, to: [{}] }],
        },
      ],
    });
    assert.deepEqual(result.ok ? [] : result.errors.map((e) => e.path), [
      'services[0].endpoints[1]',
      'services[0].routes[0].match.headers["bad name"]',
    ]);
  });

  it('flags endpoints whose weights add up past uint32 (every client rejects the assignment)', () => {
    const endpoints = (count: number) =>
      Array.from({ length: count }, (_, i) => ({
        address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
        weight: 1_000_000,
      }));
    const model = (count: number) => ({
      services: [{ name: 'heavy', ports: [{ port: 80 }], endpoints: endpoints(count) }],
    });
    // 4,294 × 1,000,000 fits in a uint32 (4,294,967,295); 4,295 × 1,000,000 does not.
    assert.ok(validateModel(model(4294)).ok);
    const result = validateModel(model(4295));
    assert.equal(result.ok, false);
    const errors = result.ok ? [] : result.errors;
    assert.deepEqual(
      errors.map((e) => e.path),
      ['services[0].endpoints'],
    );
    assert.match(errors[0]!.message, /weights add up to 4,295,000,000, more than 4,294,967,295 \(uint32\)/);
  });
});
