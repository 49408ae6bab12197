/**
 * Compiled RE2 regexes kept by pattern, the most recently used {@link regexCacheSize} of them (rule L3). re2js builds
 * a regex's automaton on its first match, at a cost that grows about as the square of its program size (a 1,800-
 * instruction node-id regex took 240-290 ms, probe finding Q7), and later matches reuse it. Without this every CSDS
 * request paid that again for the same patterns; now a pattern costs it once while it stays among the recent ones.
 * A pattern RE2 rejects is not kept (its error is thrown again each time). Matching with a kept regex leaves it
 * unchanged, so callers share it.
 */
import { RE2JS } from 're2js';

/** How many compiled regexes are kept (each holds its program and automaton: some KB to some hundred KB). */
export const regexCacheSize = 128;

const byPattern = new Map<string, RE2JS>();

/** The compiled regex of `pattern`, from the cache or compiled now; throws as `RE2JS.compile` does. */
export function cachedRe2(pattern: string): RE2JS {
  const kept = byPattern.get(pattern);
  if (kept !== undefined) {
    // Most recently used last: a Map iterates in insertion order.
    byPattern.delete(pattern);
    byPattern.set(pattern, kept);
    return kept;
  }
  const re = RE2JS.compile(pattern);
  byPattern.set(pattern, re);
  if (byPattern.size > regexCacheSize) byPattern.delete(byPattern.keys().next().value as string);
  return re;
}
