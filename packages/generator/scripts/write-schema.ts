// Writes schema/service-model.schema.json from the exported modelJsonSchema, formatted by Biome like every other
// file (run: pnpm --filter @xds/generator schema). src/model/json-schema.test.ts checks that the file is current.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { modelJsonSchema } from '../src/model/json-schema.js';

const file = fileURLToPath(new URL('../schema/service-model.schema.json', import.meta.url));
const biome = fileURLToPath(new URL('../../../node_modules/.bin/biome', import.meta.url));
writeFileSync(file, `${JSON.stringify(modelJsonSchema, null, 2)}\n`);
const formatted = spawnSync(biome, ['format', '--write', file], { stdio: 'inherit' });
if (formatted.status !== 0) process.exit(formatted.status ?? 1);
process.stdout.write(`wrote ${file}\n`);
