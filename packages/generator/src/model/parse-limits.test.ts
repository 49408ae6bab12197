import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelError } from './model-error.js';
import { defaultModelLimits, type ModelLimits, resolveModelLimits } from './model-limits.js';
import { type ParseModelOptions, parseModel } from './parse.js';

function errorsOf(text: string, limits?: Partial<ModelLimits>): readonly ModelError[] {
  const options: ParseModelOptions =
    limits === undefined ? { file: 'mesh.yaml' } : { file: 'mesh.yaml', limits };
  const result = parseModel(text, options);
  assert.equal(result.ok, false, 'the model should not be valid');
  return result.ok ? [] : result.errors;
}

/** The only error, checked to be placed in mesh.yaml at a line. */
function only(errors: readonly ModelError[]): ModelError {
  assert.equal(errors.length, 1, JSON.stringify(errors).slice(0, 2000));
  const error = errors[0]!;
  assert.equal(error.file, 'mesh.yaml');
  assert.equal(typeof error.line, 'number');
  return error;
}

const endpoint = (i: number) => `{ address: 10.0.${i >> 8}.${i & 255}, port: 8080 }`;

/** A service whose endpoints list is the anchor &eps with `count` endpoints, then `aliases` services reusing it. */
function aliasedEndpoints(count: number, aliases: number): string {
  const lines = [
    'services:',
    '  - name: s0',
    '    ports: [{ name: http, port: 80 }]',
    `    endpoints: &eps [${Array.from({ length: count }, (_, i) => endpoint(i)).join(', ')}]`,
  ];
  for (let i = 1; i <= aliases; i++)
    lines.push(`  - { name: s${i}, ports: [{ name: http, port: 80 }], endpoints: *eps }`);
  return `${lines.join('\n')}\n`;
}

describe('parseModel limits', () => {
  it('L2: 10,000 nested brackets are a clean error naming the line and maxDepth, on every read', () => {
    const deep = 10_000;
    const texts = [
      `domain: a\nservices: ${'['.repeat(deep)}${']'.repeat(deep)}\n`,
      `domain: a\nservices: ${'{a: '.repeat(deep)}1${'}'.repeat(deep)}\n`,
      `domain: a\nservices:\n${'- '.repeat(deep)}x\n`,
    ];
    // Before the bound, the second read of the first text aborted the process (V8 out of memory compiling a regex
    // at the end of the stack); a test process that survives three reads of each shows that it is gone.
    for (let read = 0; read < 3; read++) {
      for (const text of texts) {
        const error = only(errorsOf(text));
        assert.equal(error.line, text.startsWith('domain: a\nservices:\n') ? 3 : 2);
        assert.match(error.message, /nested more than 64 deep; the limit is maxDepth/);
      }
    }
  });

  it('L2: nesting within maxDepth parses; one level past it is refused', () => {
    const model = 'services:\n  - name: a\n    ports:\n      - port: 80\n';
    // The top mapping, services, the service, ports, the port: 5 levels.
    assert.equal(parseModel(model, { limits: { maxDepth: 5 } }).ok, true);
    const error = only(errorsOf(model, { maxDepth: 4 }));
    assert.equal(error.line, 4);
    assert.match(error.message, /nested more than 4 deep; the limit is maxDepth/);
  });

  it('L2: an anchor aliased many times counts every repetition toward maxNodes, and the error names the alias', () => {
    const text = aliasedEndpoints(100, 100);
    // Each endpoint is 5 values (a mapping, two keys, two scalars): 500 per alias, 100 aliases.
    const error = only(errorsOf(text, { maxNodes: 20_000 }));
    assert.match(error.message, /more than 20,000 values .*the limit is maxNodes/);
    const line = error.line!;
    assert.ok(line > 4 && line < 4 + 100, `the error is on a line that aliases the anchor: ${line}`);
    assert.match(text.split('\n')[line - 1] ?? '', /\*eps/);
    const within = parseModel(text, { limits: { maxNodes: 100_000 } });
    assert.equal(within.ok, true, `within the limit it parses: ${JSON.stringify(within).slice(0, 500)}`);
  });

  it('L2: 1,000 endpoints aliased 999 times (102 KB into a million endpoints) is refused by the default limit', () => {
    const text = aliasedEndpoints(1000, 999);
    assert.ok(text.length < 120_000, `the text is small: ${text.length} characters`);
    const error = only(errorsOf(text));
    assert.match(error.message, /more than 1,000,000 values .*the limit is maxNodes/);
  });

  it('L2: a text past maxBytes is refused before it is parsed, at the line where it passes the limit', () => {
    const text = `services:\n${'  # a comment line\n'.repeat(100)}`;
    const limit = 1000;
    const error = only(errorsOf(text, { maxBytes: limit }));
    assert.match(error.message, /larger than 1,000 bytes; the limit is maxBytes/);
    assert.equal(error.line, 2 + Math.floor((limit - 10) / '  # a comment line\n'.length));
    // Bytes, not characters: 400 three-byte characters are 1,200 bytes.
    assert.match(only(errorsOf(`domain: ${'€'.repeat(400)}\n`, { maxBytes: limit })).message, /maxBytes/);
  });

  it('L2: past maxErrors, the errors are cut and the last one says how many were left out', () => {
    const text = `services: []\n${Array.from({ length: 300 }, (_, i) => `unknown${i}: 1`).join('\n')}\n`;
    const errors = errorsOf(text);
    assert.equal(errors.length, 101);
    assert.equal(errors[0]?.line, 2);
    assert.equal(errors[99]?.line, 101);
    assert.deepEqual(errors[100], {
      file: 'mesh.yaml',
      path: '',
      message: '200 more errors not shown; the limit is maxErrors',
    });
    const duplicates = errorsOf(`services: []\n${'services: []\n'.repeat(5)}`, { maxErrors: 2 });
    assert.deepEqual(
      duplicates.map((e) => e.line ?? e.message),
      [2, 3, '3 more errors not shown; the limit is maxErrors'],
    );
  });

  it('resolves aliases as YAML does: a later anchor of the same name hides the earlier one', () => {
    const result = parseModel(
      [
        'services:',
        '  - name: a',
        '    ports: [{ name: http, port: 80 }]',
        '    endpoints: [{ address: &addr 10.0.0.1, labels: { &k app: &v one } }]',
        '  - name: b',
        '    ports: [{ name: http, port: 80 }]',
        '    endpoints: [{ address: *addr, labels: { *k : *v, &v x: &addr 10.0.0.2 } }]',
        '  - name: c',
        '    ports: [{ name: http, port: 80 }]',
        '    endpoints: [{ address: *addr, labels: { __proto__: *v } }]',
      ].join('\n'),
    );
    assert.ok(result.ok, JSON.stringify(result));
    const endpoints = result.model.services.map((s) => s.endpoints[0]);
    assert.deepEqual(
      endpoints.map((e) => [e?.address, { ...e?.labels }]),
      [
        ['10.0.0.1', { app: 'one' }],
        ['10.0.0.1', { app: 'one', x: '10.0.0.2' }],
        ['10.0.0.2', JSON.parse('{"__proto__":"x"}')],
      ],
    );
    assert.equal(Object.getPrototypeOf(endpoints[2]?.labels), Object.prototype, 'no prototype was set');
  });

  it('reports an alias inside the value it repeats, an unknown alias and a duplicate key, with their lines', () => {
    assert.match(only(errorsOf('services: &s [*s]\n')).message, /alias \*s is inside the value it repeats/);
    const unknown = only(errorsOf('domain: a\nservices: *nothing\n'));
    assert.deepEqual([unknown.line, unknown.message], [2, 'alias *nothing has no anchor &nothing before it']);
    const duplicate = only(errorsOf('domain: a\nservices: []\ndomain: b\n'));
    assert.deepEqual(
      [duplicate.line, duplicate.message],
      [3, 'mapping keys must be unique: "domain" is already set'],
    );
  });

  it('rejects limits that are not positive integers, and a maxDepth the composer cannot survive', () => {
    assert.deepEqual(resolveModelLimits(), defaultModelLimits);
    assert.throws(() => resolveModelLimits({ maxNodes: 0 }), /maxNodes must be a positive integer/);
    assert.throws(() => resolveModelLimits({ maxBytes: 1.5 }), /maxBytes must be a positive integer/);
    assert.throws(() => resolveModelLimits({ maxDepth: 5000 }), /maxDepth must be at most 1000/);
  });
});
