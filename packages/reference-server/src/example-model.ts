import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The file name of the embedded example, next to the built `bin.js` (copied there by the build). */
export const exampleFileName = 'examples/bookinfo.yaml';

/**
 * The path of the embedded example model (Istio's Bookinfo): the copy the build puts in `dist/examples/`, or,
 * when running from source, the one `@xds/generator` ships.
 */
export function exampleModelPath(): string {
  const copy = fileURLToPath(new URL(exampleFileName, import.meta.url));
  if (existsSync(copy)) return copy;
  return fileURLToPath(import.meta.resolve('@xds/generator/examples/bookinfo.yaml'));
}
