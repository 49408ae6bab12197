import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelError } from './model-error.js';
import { defaultModelLimits, type ModelLimits } from './model-limits.js';
import { parseModel } from './parse.js';
import { validateModel } from './validate.js';

function errorsOf(text: string, limits?: Partial<ModelLimits>): readonly ModelError[] {
  const result = parseModel(
    text,
    limits === undefined ? { file: 'mesh.yaml' } : { file: 'mesh.yaml', limits },
  );
  assert.equal(result.ok, false, 'the model should not be valid');
  return result.ok ? [] : result.errors;
}

function only(errors: readonly ModelError[]): ModelError {
  assert.equal(errors.length, 1, JSON.stringify(errors).slice(0, 2000));
  assert.equal(errors[0]!.file, 'mesh.yaml');
  return errors[0]!;
}

/** One service per entry of `services`: [ports, endpoints, subsets]; every subset selects every endpoint. */
function model(services: readonly (readonly [number, number, number])[]): string {
  const lines = ['services:'];
  for (const [s, [ports, endpoints, subsets]] of services.entries()) {
    const portList = Array.from({ length: ports }, (_, i) => `{ name: http-${i}, port: ${8000 + i} }`);
    const endpointList = Array.from(
      { length: endpoints },
      (_, i) => `{ address: 10.${s}.${i >> 8}.${i & 255}, labels: { app: a } }`,
    );
    lines.push(
      `  - name: s${s}`,
      `    ports: [${portList.join(', ')}]`,
      `    endpoints: [${endpointList.join(', ')}]`,
    );
    if (subsets > 0) {
      const subsetList = Array.from({ length: subsets }, (_, i) => `{ name: v${i}, labels: { app: a } }`);
      lines.push(`    subsets: [${subsetList.join(', ')}]`);
    }
  }
  return `${lines.join('\n')}\n`;
}

describe('model expansion limits', () => {
  it('L2: 1,000 endpoints and 100 subsets that each select all of them (101,000 generated) pass maxGeneratedEndpoints', () => {
    const text = model([[1, 1_000, 100]]);
    assert.ok(text.length < 100_000, 'a small file');
    const error = only(errorsOf(text));
    assert.match(error.message, /more than 100,000 endpoints .*the limit is maxGeneratedEndpoints/);
    assert.equal(error.path, 'services[0]');
    assert.equal(error.line, 2);
    assert.equal(parseModel(text, { limits: { maxGeneratedEndpoints: 101_000 } }).ok, true);
  });

  it('L2: endpoints count once per port, and subsets count only the endpoints they select', () => {
    assert.match(
      only(errorsOf(model([[2, 60, 0]]), { maxGeneratedEndpoints: 100 })).message,
      /maxGeneratedEndpoints/,
    );
    assert.equal(parseModel(model([[1, 60, 0]]), { limits: { maxGeneratedEndpoints: 100 } }).ok, true);
    const narrow = [
      'services:',
      '  - name: s0',
      '    ports: [{ name: http, port: 80 }]',
      `    endpoints: [${Array.from({ length: 60 }, (_, i) => `{ address: 10.0.0.${i}, labels: { v: v${i % 3} } }`).join(', ')}]`,
      '    subsets: [{ name: a, labels: { v: v0 } }, { name: b, labels: { v: v1 } }]',
    ].join('\n');
    // 60 + 20 + 20 endpoints: within 100, while 60 × 3 would not be.
    assert.equal(parseModel(narrow, { limits: { maxGeneratedEndpoints: 100 } }).ok, true);
    assert.match(only(errorsOf(narrow, { maxGeneratedEndpoints: 99 })).message, /maxGeneratedEndpoints/);
  });

  it('L2: clusters are counted over every service, and the error names the service where the total passed', () => {
    const text = model(Array.from({ length: 10 }, () => [2, 1, 4] as const)); // 10 × 2 × (1 + 4) = 100 clusters
    assert.equal(parseModel(text, { limits: { maxGeneratedClusters: 100 } }).ok, true);
    const error = only(errorsOf(text, { maxGeneratedClusters: 99 }));
    assert.match(error.message, /generate 100 clusters .*more than 99; the limit is maxGeneratedClusters/);
    assert.equal(error.path, 'services[9]');
  });

  it('L2: a service with more subsets than maxSubsetsPerService is one error naming it, and routes may still name every subset', () => {
    const max = defaultModelLimits.maxSubsetsPerService;
    const text = `${model([[1, 1, max + 44]])}    routes:\n      - to: [{ subset: v${max + 43} }]\n`;
    const error = only(errorsOf(text));
    assert.match(
      error.message,
      new RegExp(`${max + 44} subsets, more than ${max}; the limit is maxSubsetsPerService`),
    );
    assert.equal(error.path, 'services[0].subsets');
    assert.equal(parseModel(text, { limits: { maxSubsetsPerService: max + 44 } }).ok, true);
  });

  it('L2: validateModel takes the same limits', () => {
    const value = {
      services: [
        {
          name: 'a',
          ports: [{ name: 'http', port: 80 }],
          endpoints: [{ address: '10.0.0.1' }, { address: '10.0.0.2' }],
        },
      ],
    };
    assert.equal(validateModel(value).ok, true);
    const refused = validateModel(value, { maxGeneratedEndpoints: 1 });
    assert.equal(refused.ok, false);
    assert.match(refused.ok ? '' : refused.errors[0]!.message, /the limit is maxGeneratedEndpoints/);
  });
});
