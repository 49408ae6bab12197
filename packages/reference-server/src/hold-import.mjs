// Test support, loaded with `node --import`: holds the import of one module (XDS_TEST_HOLD_IMPORT, a bare specifier)
// for up to 60 s, after writing "holding SPECIFIER" to stderr, so that a test can signal a process while it is
// still loading its modules (early-signals.test.ts). The hold runs on Node's module-hooks thread; the main thread's
// event loop, and so its signal handlers, run meanwhile.
import { writeSync } from 'node:fs';
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

if (isMainThread) register(import.meta.url);

const held = process.env.XDS_TEST_HOLD_IMPORT;
let holding = false;

/** The module-hooks `resolve`: the held specifier waits; every other passes through. */
export async function resolve(specifier, context, next) {
  if (specifier === held && !holding) {
    holding = true;
    writeSync(2, `holding ${specifier}\n`);
    await new Promise((done) => setTimeout(done, 60_000));
  }
  return next(specifier, context);
}
