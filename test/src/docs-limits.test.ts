// Rule L2: every limit has a documented default. docs/security.md's limits tables are written by hand, and four of
// them drifted from the code unnoticed (review11 F1-F4, F16). This test reads the tables and compares each limit's
// name and default with the defaults the packages export: `defaultLimits` (@xds/server), `defaultClientLimits`
// (@xds/client), `defaultRegistryLimits` and `defaultParseOptions` (@xds/registry), `defaultModelLimits`
// (@xds/generator) and the relay's `relayDefaults` (xds-relay's flags).
// A limit with no row, a row whose default differs, and a row naming a limit the code does not have all fail,
// naming the limit and both values.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { defaultClientLimits } from '@xds/client';
import { defaultModelLimits } from '@xds/generator';
import { defaultParseOptions, defaultRegistryLimits } from '@xds/registry';
import { defaultLimits } from '@xds/server';

const page = readFileSync(new URL('../../docs/security.md', import.meta.url), 'utf8');

// The relay's defaults are one object in its command line module, which @xds/relay's entry does not export (it
// would load @xds/reference-server into every library user); the test reads the built module beside the entry.
const relayCli = new URL('./cli.js', import.meta.resolve('@xds/relay'));
const { relayDefaults } = (await import(relayCli.href)) as {
  relayDefaults: Readonly<Record<string, unknown>>;
};

/** One row of a Markdown table: its cells, trimmed. */
type Row = readonly string[];

/** Every table of a Markdown page, keyed by its header cells joined with `|`. */
function tablesOf(markdown: string): Map<string, Row[]> {
  const tables = new Map<string, Row[]>();
  let rows: Row[] | undefined;
  for (const line of markdown.split('\n')) {
    if (!line.startsWith('|')) {
      rows = undefined;
      continue;
    }
    // a `\|` inside a cell (a regex in a row's text) is not a cell boundary
    const cells = line
      .slice(1, line.trimEnd().endsWith('|') ? line.trimEnd().length - 1 : undefined)
      .split(/(?<!\\)\|/)
      .map((cell) => cell.trim());
    if (rows === undefined) {
      // the header row; two tables with one header are read as one
      const header = cells.join('|');
      rows = tables.get(header) ?? [];
      tables.set(header, rows);
    } else if (!cells.every((cell) => /^:?-+:?$/.test(cell))) rows.push(cells);
  }
  return tables;
}

const units: Readonly<Record<string, number>> = {
  bytes: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  GB: 1e9,
  ms: 1,
  s: 1000,
  min: 60_000,
};
const quantity = /^(\d{1,3}(?:,\d{3})+|\d+)(?:\s*(bytes|KiB|MiB|GiB|GB|ms|min|s)\b)?/;

/**
 * The value of a default as the tables write it, in the unit of the limit it is the default of: a `…Ms` limit in
 * milliseconds (`15,000 (15 s)`, `60 s`, `100 ms`), a `…MiB` limit in MiB (`1,024 MiB`), any other in bytes or a
 * count (`16,777,216 (16 MiB)`, `4 MiB`, `4,096`, `2,000,000,000 (2 GB)`). A parenthesis right after the number that
 * restates it must agree with it. Text after the value (`, or a quarter of …`) is not read. Throws on anything else.
 */
function readDefault(limit: string, text: string): number {
  const first = quantity.exec(text);
  if (first === null) throw new Error(`cannot read a default from "${text}"`);
  const value = inUnitOf(limit, first, text);
  const restated = /^\s*\(([^)]*)\)/.exec(text.slice(first[0].length));
  const again = restated === null ? null : quantity.exec(restated[1] ?? '');
  if (again !== null && inUnitOf(limit, again, text) !== value) {
    throw new Error(`"${text}" restates its value as a different one`);
  }
  return value;
}

/** One matched quantity in the unit of `limit` (see {@link readDefault}); throws on a unit that does not fit. */
function inUnitOf(limit: string, match: RegExpExecArray, text: string): number {
  const number = Number((match[1] ?? '').replaceAll(',', ''));
  const unit = match[2];
  const time = unit === 'ms' || unit === 's' || unit === 'min';
  if (limit.endsWith('Ms')) {
    if (unit !== undefined && !time) throw new Error(`"${text}" is not a time`);
    return number * (unit === undefined ? 1 : (units[unit] ?? Number.NaN));
  }
  if (time) throw new Error(`"${text}" is a time, the limit is not`);
  const bytes = number * (unit === undefined ? 1 : (units[unit] ?? Number.NaN));
  // a `…MiB` limit counts MiB: `1,024 MiB` is 1,024
  return limit.endsWith('MiB') && unit !== undefined ? bytes / 1024 ** 2 : bytes;
}

/** Where one set of defaults is documented: which table, which of its rows, and whether every key needs a row. */
interface Source {
  /** The defaults object, as the failure names it. */
  readonly what: string;
  readonly defaults: object;
  /** The header of the table, its cells joined with `|`. */
  readonly table: string;
  /** True for the rows of this source, from their first cell. */
  readonly owns: (firstCell: string) => boolean;
  /** What the rows write before each name (`ClientLimits.`). */
  readonly prefix?: string;
  /** False when the table documents only some keys (the rest are not limits). */
  readonly complete?: boolean;
}

const serverTable = 'limit|default|bounds|past it';
const optionTable = 'option|default|`xds-server`|bounds';
const registryTable = 'limit|default|bounds';
const oneName = (cell: string) => /^`\w+`$/.test(cell);

const sources: readonly Source[] = [
  { what: 'defaultLimits (@xds/server)', defaults: defaultLimits, table: serverTable, owns: oneName },
  {
    what: 'defaultClientLimits (@xds/client)',
    defaults: defaultClientLimits,
    table: optionTable,
    owns: (cell) => cell.startsWith('`ClientLimits.'),
    prefix: 'ClientLimits.',
  },
  {
    what: 'relayDefaults (@xds/relay, xds-relay)',
    defaults: numbersOf(relayDefaults),
    table: optionTable,
    owns: (cell) => cell.startsWith('`RelayOptions.'),
    prefix: 'RelayOptions.',
  },
  {
    what: 'defaultModelLimits (@xds/generator)',
    defaults: defaultModelLimits,
    table: optionTable,
    owns: (cell) => cell.includes('(`ModelLimits`'),
  },
  {
    what: 'defaultRegistryLimits (@xds/registry)',
    defaults: defaultRegistryLimits,
    table: registryTable,
    owns: oneName,
  },
  {
    what: 'defaultParseOptions (@xds/registry)',
    defaults: defaultParseOptions,
    table: registryTable,
    owns: (cell) => cell.includes('`RegistryParseOptions`'),
    complete: false,
  },
];

function numbersOf(object: Readonly<Record<string, unknown>>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(object).filter(([, value]) => typeof value === 'number'),
  ) as Record<string, number>;
}

/**
 * The names a row's first cell documents: the identifiers in backquotes before its first parenthesis, or, when
 * none stands there, those inside it (`admin port connections (\`HttpAdminOptions.maxConnections\`, …)`).
 */
function namesOf(cell: string, prefix: string): string[] {
  const open = cell.indexOf('(');
  const identifiers = (text: string) =>
    [...text.matchAll(/`([A-Za-z][\w.]*)`/g)].map((match) => (match[1] ?? '').replace(prefix, ''));
  const before = identifiers(open === -1 ? cell : cell.slice(0, open));
  return before.length > 0 ? before : identifiers(cell.slice(open + 1));
}

/** What {@link checkLimits} found: the names each source's rows document, and every disagreement, one line each. */
interface LimitCheck {
  readonly documented: ReadonlyMap<string, number>;
  readonly problems: readonly string[];
}

/** Everything in `markdown`'s limits tables that disagrees with the code, one line each; none when in step. */
function limitDrift(markdown: string): readonly string[] {
  return checkLimits(markdown).problems;
}

/** Reads `markdown`'s limits tables and compares them with the code's defaults. */
function checkLimits(markdown: string): LimitCheck {
  const tables = tablesOf(markdown);
  const problems: string[] = [];
  const counts = new Map<string, number>();
  for (const source of sources) {
    const rows = tables.get(source.table);
    if (rows === undefined) {
      problems.push(`docs/security.md has no table "${source.table}" for ${source.what}`);
      continue;
    }
    const documented = new Map<string, string>();
    for (const row of rows) {
      const [first = '', cell = ''] = row;
      if (!source.owns(first)) continue;
      const names = namesOf(first, source.prefix ?? '');
      // one default per name; a row of one name keeps its whole cell (`1,024, or a quarter of …`)
      const values = names.length === 1 ? [cell] : cell.split(/[;,]\s+/);
      if (values.length !== names.length) {
        problems.push(`${names.join(', ')}: ${names.length} names and ${values.length} defaults ("${cell}")`);
        continue;
      }
      names.forEach((name, i) => {
        if (documented.has(name)) problems.push(`${source.prefix ?? ''}${name}: more than one row`);
        documented.set(name, values[i] ?? '');
      });
    }
    for (const [name, code] of Object.entries(source.defaults)) {
      const text = documented.get(name);
      const label = `${source.prefix ?? ''}${name}`;
      if (text === undefined) {
        if (source.complete !== false)
          problems.push(`${label} (default ${code} in ${source.what}) has no row in docs/security.md`);
        continue;
      }
      try {
        const doc = readDefault(name, text);
        if (doc !== code)
          problems.push(`${label}: docs/security.md says "${text}" (${doc}), ${source.what} says ${code}`);
      } catch (error) {
        problems.push(`${label}: docs/security.md: ${(error as Error).message}; ${source.what} says ${code}`);
      }
    }
    for (const name of documented.keys()) {
      if (!(name in source.defaults))
        problems.push(`docs/security.md documents ${source.prefix ?? ''}${name}, not in ${source.what}`);
    }
    counts.set(source.what, documented.size);
  }
  return { documented: counts, problems };
}

describe('docs/security.md limits tables', () => {
  it('L2: every limit of the code has a row in docs/security.md with its default, and every row a limit', (t) => {
    const { documented, problems } = checkLimits(page);
    assert.equal(
      problems.length,
      0,
      `docs/security.md is out of step with the code:\n${problems.join('\n')}`,
    );
    for (const source of sources) {
      const keys = Object.keys(source.defaults).length;
      const rows = documented.get(source.what) ?? 0;
      t.diagnostic(`${source.what}: ${rows} documented of ${keys}`);
      // the rows were found and read, not skipped: a complete source has them all, the others some
      assert.ok(source.complete === false ? rows > 0 : rows === keys && keys > 0, source.what);
    }
  });

  it('the check fails, naming the limit and both values, on a changed default, a missing row and a stray row', () => {
    const row = (name: string) => new RegExp(`^\\| \`${name}\` \\|[^\\n]*\\n`, 'm');
    assert.match(page, row('maxStreamsPerNode'));
    const changed = page.replace(/^(\| `maxStreamsPerNode` \| )100 /m, '$1200 ');
    assert.deepEqual(limitDrift(changed), [
      'maxStreamsPerNode: docs/security.md says "200" (200), defaultLimits (@xds/server) says 100',
    ]);
    const missing = page.replace(row('maxRegistryObjects'), '');
    assert.deepEqual(limitDrift(missing), [
      'maxRegistryObjects (default 150000 in defaultRegistryLimits (@xds/registry)) has no row in docs/security.md',
    ]);
    const client = page.replace(
      '| `ClientLimits.drainTimeoutMs` (`@xds/client`',
      '| `ClientLimits.drainMs` (',
    );
    assert.deepEqual(limitDrift(client), [
      'ClientLimits.drainTimeoutMs (default 60000 in defaultClientLimits (@xds/client)) has no row in docs/security.md',
      'docs/security.md documents ClientLimits.drainMs, not in defaultClientLimits (@xds/client)',
    ]);
    const model = page.replace('| 4 MiB, 64, 1,000,000, 100 |', '| 4 MiB, 64, 100,000, 100 |');
    assert.deepEqual(limitDrift(model), [
      'maxNodes: docs/security.md says "100,000" (100000), defaultModelLimits (@xds/generator) says 1000000',
    ]);
  });

  it('reads defaults as the tables write them', () => {
    assert.equal(readDefault('maxRequestBytes', '16,777,216 (16 MiB)'), 16_777_216);
    assert.equal(readDefault('maxResourceBytes', '16 MiB'), 16 * 1024 * 1024);
    assert.equal(readDefault('maxNodeIdBytes', '4,096 (4 KiB)'), 4096);
    assert.equal(readDefault('connectionSetupTimeoutMs', '15,000 (15 s)'), 15_000);
    assert.equal(readDefault('maxConnectionIdleMs', '300,000 (5 min)'), 300_000);
    assert.equal(readDefault('drainTimeoutMs', '60 s'), 60_000);
    assert.equal(readDefault('minRegistryUpdateMs', '100 ms'), 100);
    assert.equal(readDefault('parseHeapMiB', '1,024 MiB'), 1024);
    assert.equal(readDefault('maxSubscriptionBytesTotal', '2,000,000,000 (2 GB)'), 2e9);
    assert.equal(readDefault('maxConnectionsPerPeer', '1,024, or a quarter of `maxConnections`'), 1024);
    assert.equal(readDefault('maxConnections', '50,000; unset, at most the limit less 1,024'), 50_000);
    assert.throws(() => readDefault('partialRequestTimeoutMs', '30,000 (3 s)'), /restates its value/);
    assert.throws(() => readDefault('maxRequestBytes', '16 s'), /is a time/);
    assert.throws(() => readDefault('hookTimeoutMs', '10 MiB'), /is not a time/);
    assert.throws(() => readDefault('maxStreamsPerNode', 'one hundred'), /cannot read a default/);
  });
});
