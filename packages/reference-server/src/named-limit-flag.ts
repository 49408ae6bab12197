/**
 * A repeatable `--FLAG NAME=VALUE` flag over a table of named limits (`--registry-limit`, `--model-limit`), so that
 * each such flag reads, checks and lists its names the same way (rule L2: every bound has a documented default and
 * an option): the `--help` rows (name, default, meaning), and one line naming the flag and the first problem for a
 * value that is not `NAME=VALUE`, an unknown name (with the known ones), a value outside the name's range, or a name
 * given twice.
 */

/** One name a {@link NamedLimitFlag} takes. */
export interface NamedLimit {
  /** The value when the flag does not give it. */
  readonly defaultValue: number;
  /** The smallest value the flag takes. */
  readonly min: number;
  /** The largest value the flag takes. */
  readonly max: number;
  /** What it bounds, one line, for `--help`. */
  readonly meaning: string;
}

/** A `--FLAG NAME=VALUE` flag: its name, what its names are called, an example, and its names. */
export interface NamedLimitFlag {
  /** `registry-limit`. */
  readonly flag: string;
  /** `registry limit`: what an unknown name is not. */
  readonly kind: string;
  /** `maxRegistryServices=20000`: shown after "expected NAME=VALUE". */
  readonly example: string;
  readonly names: Readonly<Record<string, NamedLimit>>;
}

/** The `--help` rows of a flag's names: `    NAME  DEFAULT  meaning` (the range when it is not 1 to 2^31 - 1). */
export function namedLimitRows(spec: NamedLimitFlag, wholeRange: number): string[] {
  const entries = Object.entries(spec.names);
  const width = Math.max(...entries.map(([name]) => name.length));
  return entries.map(([name, limit]) => {
    const range = limit.min === 1 && limit.max === wholeRange ? '' : ` (${limit.min} to ${limit.max})`;
    return `    ${name.padEnd(width)} ${String(limit.defaultValue).padStart(8)}  ${limit.meaning}${range}`;
  });
}

/** Parses a flag's values into the named numbers, or returns one line naming the flag and the first problem. */
export function parseNamedLimits(
  spec: NamedLimitFlag,
  values: string | boolean | string[] | undefined,
): Record<string, number> | string {
  const out: Record<string, number> = {};
  for (const text of Array.isArray(values) ? values : []) {
    const equals = text.indexOf('=');
    if (equals <= 0) return `--${spec.flag} ${text}: expected NAME=VALUE, e.g. ${spec.example}`;
    const name = text.slice(0, equals);
    const value = text.slice(equals + 1);
    const limit = Object.hasOwn(spec.names, name) ? spec.names[name] : undefined;
    if (limit === undefined)
      return `--${spec.flag} ${text}: "${name}" is not a ${spec.kind}; they are ${Object.keys(spec.names).join(', ')}`;
    const number = /^\d{1,10}$/.test(value) ? Number(value) : Number.NaN;
    if (!(number >= limit.min && number <= limit.max))
      return `--${spec.flag} ${text}: ${name} must be a whole number from ${limit.min} to ${limit.max} (default ${limit.defaultValue})`;
    if (Object.hasOwn(out, name)) return `--${spec.flag} ${name} is given twice`;
    out[name] = number;
  }
  return out;
}
