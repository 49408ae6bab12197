import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelError } from './model-error.js';
import { formatModelError } from './model-error.js';
import { parseModel } from './parse.js';

function errorsOf(text: string): readonly ModelError[] {
  const result = parseModel(text, { file: 'mesh.yaml' });
  assert.equal(result.ok, false, 'the model should not be valid');
  return result.ok ? [] : result.errors;
}

/** The one error at a path, with its position and message. */
function at(errors: readonly ModelError[], path: string): ModelError {
  const found = errors.filter((e) => e.path === path);
  assert.equal(found.length, 1, `one error at ${path}; got ${JSON.stringify(errors, null, 1)}`);
  return found[0]!;
}

// Line numbers in the comments are the 1-based lines of this text.
const broken = [
  'services:', //                                                      1
  '  - name: reviews', //                                              2
  '    namespce: default', //                                          3  unknown field
  '    ports: [{ name: http, port: 70000, protocol: HTTPX }]', //      4  bad port, bad protocol
  '    endpoints:', //                                                 5
  '      - { address: 127.0.0.1, port: 9083, labels: { version: v1 } }', // 6
  '      - { port: 9084 }', //                                         7  missing address
  '    subsets:', //                                                   8
  '      - { name: v1, labels: { version: v1 } }', //                  9
  '      - { name: v9, labels: { version: v9 } }', //                  10 selects nothing
  '    routes:', //                                                    11
  '      - to: [{ subset: v2, weight: 0 }]', //                        12 unknown subset, weights 0
  '  - name: reviews', //                                              13 duplicate service
  '    ports: [{ name: http, port: 9080 }]', //                        14
  '  - namespace: default', //                                         15 missing name and ports
].join('\n');

describe('parseModel', () => {
  it('reports every error of a file at once, in source order, with file, line, column and path', () => {
    const errors = errorsOf(broken);
    assert.deepEqual(
      errors.map((e) => [e.line, e.path]),
      [
        [3, 'services[0].namespce'],
        [4, 'services[0].ports[0].port'],
        [4, 'services[0].ports[0].protocol'],
        [7, 'services[0].endpoints[1].address'],
        [10, 'services[0].subsets[1].labels'],
        [12, 'services[0].routes[0].to'],
        [12, 'services[0].routes[0].to[0].subset'],
        [13, 'services[1].name'],
        [15, 'services[2].name'],
        [15, 'services[2].ports'],
      ],
    );
    for (const error of errors) assert.equal(error.file, 'mesh.yaml');
  });

  it('an unknown field points at its key and suggests the closest known name', () => {
    const error = at(errorsOf(broken), 'services[0].namespce');
    assert.deepEqual([error.line, error.column], [3, 5]);
    assert.equal(error.message, 'unknown field "namespce" (did you mean "namespace"?)');
  });

  it('an unknown field without a close name lists the known ones', () => {
    const error = at(errorsOf('services: []\nflavour: envoy\n'), 'flavour');
    assert.deepEqual([error.line, error.column], [2, 1]);
    assert.match(error.message, /^unknown field "flavour"; expected one of domain, services$/);
  });

  it('a port out of 1..65535 points at the number', () => {
    const error = at(errorsOf(broken), 'services[0].ports[0].port');
    assert.deepEqual([error.line, error.column], [4, 33]);
    assert.equal(error.message, '70000 is out of range 1..65535');
    const zero = at(
      errorsOf('services:\n  - { name: a, ports: [{ port: 0 }] }\n'),
      'services[0].ports[0].port',
    );
    assert.equal(zero.message, '0 is out of range 1..65535');
    const quoted = at(
      errorsOf('services:\n  - { name: a, ports: [{ port: "80" }] }\n'),
      'services[0].ports[0].port',
    );
    assert.equal(quoted.message, 'expected a whole number, got a string ("80") (remove the quotes)');
  });

  it('a bad protocol lists the protocols and suggests one', () => {
    const error = at(errorsOf(broken), 'services[0].ports[0].protocol');
    assert.deepEqual([error.line, error.column], [4, 50]);
    assert.equal(
      error.message,
      '"HTTPX" is not one of HTTP, HTTP2, GRPC, HTTPS, TLS, TCP, UDP, Mongo, Redis (did you mean "HTTP"?)',
    );
  });

  it('a missing required field points at the mapping that lacks it', () => {
    const errors = errorsOf(broken);
    const address = at(errors, 'services[0].endpoints[1].address');
    assert.deepEqual([address.line, address.column], [7, 9]);
    assert.equal(address.message, 'missing required field "address"');
    const name = at(errors, 'services[2].name');
    assert.deepEqual([name.line, name.column], [15, 5]);
    assert.equal(at(errors, 'services[2].ports').message, 'missing required field "ports"');
  });

  it('a subset whose labels select no endpoint', () => {
    const error = at(errorsOf(broken), 'services[0].subsets[1].labels');
    assert.deepEqual([error.line, error.column], [10, 29]);
    assert.equal(
      error.message,
      'subset "v9" (version=v9) selects no endpoint (endpoint labels: version=v1; (none))',
    );
  });

  it('a service that lists no endpoints (they come from a registry) may declare subsets and route to them', () => {
    const result = parseModel(
      [
        'services:',
        '  - name: web',
        '    ports: [{ name: http, port: 80 }]',
        '    subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }]',
        '    routes: [{ to: [{ subset: v1, weight: 90 }, { subset: v2, weight: 10 }] }]',
      ].join('\n'),
    );
    assert.ok(result.ok, JSON.stringify(result));
  });

  it('route weights that do not add up to more than 0', () => {
    const error = at(errorsOf(broken), 'services[0].routes[0].to');
    assert.deepEqual([error.line, error.column], [12, 13]);
    assert.match(error.message, /the weights add up to 0/);
  });

  it('a route to an unknown subset names the known ones', () => {
    const error = at(errorsOf(broken), 'services[0].routes[0].to[0].subset');
    assert.deepEqual([error.line, error.column], [12, 24]);
    assert.equal(
      error.message,
      'no subset named "v2" in reviews.default (subsets: v1, v9) (did you mean "v1"?)',
    );
  });

  it('a duplicate service name in one namespace', () => {
    const error = at(errorsOf(broken), 'services[1].name');
    assert.deepEqual([error.line, error.column], [13, 11]);
    assert.equal(
      error.message,
      'service "reviews" in namespace "default" is defined twice (also services[0])',
    );
  });

  it('names, addresses, durations, matches, duplicates and port conflicts', () => {
    const text = [
      'domain: Cluster_Local', // 1
      'services:', // 2
      '  - name: Reviews', // 3
      '    addresses: [10.0.0.300, 10.96.0.1]', // 4
      '    ports: [{ name: http, port: 80 }, { name: http, port: 80 }]', // 5
      '    endpoints:', // 6
      '      - { address: backend.local, ports: { htp: 8080 } }', // 7
      '      - { address: 10.1.0.1 }', // 8
      '      - { address: 10.1.0.1, labels: { version: 1 } }', // 9
      '    routes:', // 10
      '      - match: { prefix: api, path: /x, headers: { x-a: { exact: a, prefix: b } } }', // 11
      '        to: [{}]', // 12
      '        timeout: 2 seconds', // 13
      '  - name: db', // 14
      '    addresses: [10.96.0.1]', // 15
      '    ports: [{ name: mysql, port: 80, protocol: TCP }]', // 16
    ].join('\n');
    const errors = errorsOf(text);
    const messages = Object.fromEntries(errors.map((e) => [`${e.line}:${e.column} ${e.path}`, e.message]));
    assert.deepEqual(messages, {
      '1:9 domain': '"Cluster_Local" is not a DNS name like cluster.local',
      '3:11 services[0].name':
        '"Reviews" is not a valid service name: use at most 63 lower-case letters, digits and "-", starting and ' +
        'ending with a letter or digit',
      '4:17 services[0].addresses[0]': '"10.0.0.300" is not an IP address',
      '5:59 services[0].ports[1].port': 'port 80 is listed twice (also ports[0])',
      '5:47 services[0].ports[1].name': 'port name "http" is used twice (also ports[0])',
      '7:20 services[0].endpoints[0].address':
        '"backend.local" is not an IP address (gRPC clients and EDS take IP literals only)',
      '7:44 services[0].endpoints[0].ports.htp': 'the service has no port named "htp" (did you mean "http"?)',
      '9:9 services[0].endpoints[2]': 'endpoint 10.1.0.1:80 is listed twice (also endpoints[1])',
      '9:49 services[0].endpoints[2].labels.version': 'expected a string, got a number (1) (quote it: "1")',
      '11:16 services[0].routes[0].match': 'set one of prefix and path, not both',
      '11:26 services[0].routes[0].match.prefix': '"api" must start with "/"',
      '11:57 services[0].routes[0].match.headers["x-a"]':
        'set exactly one of exact, prefix, suffix, regex, present',
      '13:18 services[0].routes[0].timeout': '"2 seconds" is not a duration; write e.g. 2s, 150ms or 1m30s',
      '15:17 services[1].addresses[0]': 'address 10.96.0.1 is also used by Reviews.default',
      '16:34 services[1].ports[0].port':
        'port 80 is TCP here but HTTP for Reviews.default; an Envoy sidecar has one listener per port, either HTTP or TCP',
    });
  });

  it('reports YAML syntax errors with their position', () => {
    const errors = errorsOf('services:\n  - name: a\n    ports: [{ port: 80 }\n');
    assert.ok(errors.length >= 1);
    assert.equal(errors[0]?.file, 'mesh.yaml');
    assert.equal(typeof errors[0]?.line, 'number');
    assert.equal(errors[0]?.path, '');
  });

  it('reports duplicate keys and an empty document', () => {
    assert.match(errorsOf('services: []\nservices: []\n')[0]?.message ?? '', /unique/);
    assert.match(errorsOf('')[0]?.message ?? '', /empty/);
    assert.match(errorsOf('- a\n')[0]?.message ?? '', /expected a mapping/);
  });

  it('parses JSON too, with positions', () => {
    const result = parseModel(
      '{\n  "services": [\n    { "name": "a", "ports": [{ "port": 99999 }] }\n  ]\n}',
      {
        file: 'mesh.json',
      },
    );
    assert.equal(result.ok, false);
    const error = result.ok ? undefined : result.errors[0];
    assert.deepEqual([error?.line, error?.path], [3, 'services[0].ports[0].port']);
  });

  it('fills in defaults for a valid model', () => {
    const result = parseModel(
      [
        'services:',
        '  - name: api',
        '    ports: [{ name: grpc-api, port: 50051 }, { port: 6379, protocol: Redis }]',
        '    endpoints: [{ address: 10.0.0.1 }]',
      ].join('\n'),
    );
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.model, {
      domain: 'cluster.local',
      services: [
        {
          name: 'api',
          namespace: 'default',
          addresses: [],
          ports: [
            { name: 'grpc-api', port: 50051, protocol: 'GRPC' },
            { name: 'redis-6379', port: 6379, protocol: 'Redis' },
          ],
          endpoints: [
            {
              address: '10.0.0.1',
              ports: {},
              labels: {},
              locality: { region: '', zone: '', subZone: '' },
              weight: 1,
              healthy: true,
              priority: 0,
            },
          ],
          subsets: [],
          routes: [],
        },
      ],
    });
  });

  it('formats an error for a terminal', () => {
    const error = at(errorsOf(broken), 'services[0].ports[0].port');
    assert.equal(
      formatModelError(error),
      'mesh.yaml:4:33: services[0].ports[0].port: 70000 is out of range 1..65535',
    );
  });
});
