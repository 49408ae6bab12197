#!/usr/bin/env node
// Build step: embeds @xds/generator's Bookinfo example in dist/, so that `xds-server` with no --config serves it.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = fileURLToPath(import.meta.resolve('@xds/generator/examples/bookinfo.yaml'));
const target = join(root, 'dist', 'examples', 'bookinfo.yaml');
mkdirSync(dirname(target), { recursive: true });
copyFileSync(source, target);
