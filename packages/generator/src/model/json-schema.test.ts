import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { bookinfoFile } from '../test-bookinfo.js';
import { modelJsonSchema } from './json-schema.js';
import { protocols } from './protocol.js';

describe('modelJsonSchema', () => {
  it('schema/service-model.schema.json is the exported schema (regenerate: pnpm --filter @xds/generator schema)', () => {
    const file = new URL('../../schema/service-model.schema.json', import.meta.url);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), JSON.parse(JSON.stringify(modelJsonSchema)));
  });

  it('is draft-07, closed, and lists every protocol', () => {
    assert.equal(modelJsonSchema.$schema, 'http://json-schema.org/draft-07/schema#');
    assert.equal(modelJsonSchema.additionalProperties, false);
    for (const definition of Object.values(modelJsonSchema.definitions ?? {})) {
      if (definition.type === 'object' && definition.properties !== undefined) {
        assert.equal(definition.additionalProperties, false);
      }
    }
    assert.deepEqual(modelJsonSchema.definitions?.['port']?.properties?.['protocol']?.enum, protocols);
  });

  it('every $ref resolves, and the Bookinfo example names the schema for editors', () => {
    const refs = JSON.stringify(modelJsonSchema).match(/"\$ref":"[^"]+"/g) ?? [];
    assert.ok(refs.length > 0);
    for (const ref of refs) {
      const name = ref.slice(ref.lastIndexOf('/') + 1, -1);
      assert.ok(modelJsonSchema.definitions?.[name], `${ref} resolves`);
    }
    const text = readFileSync(bookinfoFile, 'utf8');
    assert.match(text, /yaml-language-server: \$schema=\.\.\/schema\/service-model\.schema\.json/);
    assert.equal(typeof parse(text), 'object');
  });
});
