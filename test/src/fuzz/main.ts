// `npm run fuzz`: the command line of the fuzzer (see docs/fuzzing.md). It prints the seed first, progress every
// 10 s and a summary, and exits 1 when a property failed, naming the seed, the case and the file that replays it.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { caseFromJson, type FuzzCase } from './case.js';
import { type CaseKind, caseWeights } from './cases.js';
import { defaultConcurrency, type FuzzReport } from './fuzz-report.js';
import { runFuzz } from './harness.js';
import { provisionNode } from './node-binary.js';
import { freshSeed } from './random.js';

const usage = `usage: npm run fuzz -- [--seed N] [--cases N] [--case I] [--replay FILE] [--concurrency N] [--heavy N]
                   [--indices I,J,K] [--repeat N] [--kinds a,b] [--skip a,b] [--timeout-ms N] [--hang-ms N]
                   [--baseline-seconds N] [--minimise-seconds N] [--gc-every-ms N] [--node VERSION|PATH]
kinds: ${Object.keys(caseWeights).join(', ')}`;

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    cases: { type: 'string' },
    case: { type: 'string' },
    replay: { type: 'string' },
    indices: { type: 'string' },
    'gc-every-ms': { type: 'string' },
    node: { type: 'string' },
    repeat: { type: 'string' },
    concurrency: { type: 'string' },
    heavy: { type: 'string' },
    'hang-ms': { type: 'string' },
    'baseline-seconds': { type: 'string' },
    kinds: { type: 'string' },
    skip: { type: 'string' },
    'timeout-ms': { type: 'string' },
    'minimise-seconds': { type: 'string' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}

function int(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`fuzz: --${name} takes a non-negative integer, got ${value}\n${usage}`);
    process.exit(2);
  }
  return n;
}

function kindList(name: string, value: string | undefined): CaseKind[] | undefined {
  if (value === undefined) return undefined;
  const list = value.split(',').filter((k) => k !== '');
  for (const kind of list) {
    if (!(kind in caseWeights)) {
      console.error(`fuzz: --${name}: unknown kind ${kind}\n${usage}`);
      process.exit(2);
    }
  }
  return list as CaseKind[];
}

let seed = int('seed', values.seed, freshSeed());
let first = 0;
let cases = int('cases', values.cases, 100_000);
let replay: ReturnType<typeof caseFromJson> | undefined;
/** `--indices` or a saved file of several cases: exactly those, all at once. */
let list: { index: number; c?: FuzzCase }[] | undefined;
let concurrencyDefault = defaultConcurrency;
if (values.case !== undefined) {
  first = int('case', values.case, 0);
  cases = values.cases === undefined ? 1 : cases;
}
if (values.indices !== undefined)
  list = values.indices
    .split(',')
    .filter((i) => i !== '')
    .map((i) => ({ index: int('indices', i, 0) }));
if (values.replay !== undefined) {
  const saved = JSON.parse(readFileSync(values.replay, 'utf8')) as {
    seed: number;
    index?: number;
    case?: unknown;
    concurrency?: number;
    cases?: { index: number; case: unknown }[];
  };
  seed = saved.seed;
  if (saved.cases !== undefined) {
    // The cases in flight when a target broke (harness.ts): all of them, at the run's concurrency.
    list = saved.cases.map((x) => ({ index: x.index, c: caseFromJson(x.case) }));
    concurrencyDefault = saved.concurrency ?? defaultConcurrency;
  } else {
    replay = caseFromJson(saved.case);
    first = saved.index ?? 0;
    cases = values.cases === undefined ? 1 : cases;
  }
}
const repeat = Math.max(1, int('repeat', values.repeat, 1));
const only = kindList('kinds', values.kinds);
const skip = kindList('skip', values.skip);
let kinds: Set<CaseKind> | undefined;
if (only !== undefined || skip !== undefined) {
  kinds = new Set(only ?? (Object.keys(caseWeights) as CaseKind[]));
  for (const kind of skip ?? []) kinds.delete(kind);
}

// Cases depend on the kinds allowed, so a replay names them too.
const kindsArg = kinds === undefined ? '' : ` --kinds ${[...kinds].join(',')}`;
/** A replay runs the target on the same Node. */
const nodeArg = values.node === undefined ? '' : ` --node ${values.node}`;
const concurrency = int('concurrency', values.concurrency, concurrencyDefault);
if (list === undefined) {
  console.log(
    `fuzz: seed ${seed}, ${cases} case(s) from #${first}${kinds ? ` (kinds: ${[...kinds].join(',')})` : ''}`,
  );
  console.log(
    `fuzz: replay with: npm run fuzz -- --seed ${seed} --cases ${cases}${first > 0 ? ` --case ${first}` : ''}${kindsArg}${nodeArg}`,
  );
} else {
  console.log(
    `fuzz: seed ${seed}, cases ${list.map((x) => x.index).join(',')} at concurrency ${concurrency}, ${repeat} time(s)`,
  );
  console.log(
    `fuzz: replay with: npm run fuzz -- --seed ${seed} --indices ${list.map((x) => x.index).join(',')} --concurrency ${concurrency} --repeat ${repeat}${kindsArg}${nodeArg}`,
  );
}
// The target's Node (`--node`): provisioned before anything starts, so that a bad version is refused at once.
let node: string | undefined;
if (values.node !== undefined) {
  try {
    node = provisionNode(values.node, (line) => console.log(line));
  } catch (error) {
    console.error(`fuzz: ${(error as Error).message}`);
    process.exit(2);
  }
}
const report = await runFuzz({
  seed,
  cases,
  first,
  ...(replay === undefined ? {} : { replay }),
  ...(list === undefined ? {} : { only: list, repeat }),
  ...(kinds === undefined ? {} : { kinds }),
  concurrency,
  ...(values['gc-every-ms'] === undefined ? {} : { gcEveryMs: int('gc-every-ms', values['gc-every-ms'], 0) }),
  ...(node === undefined ? {} : { node }),
  heavyConcurrency: int('heavy', values.heavy, 4),
  lateMs: int('timeout-ms', values['timeout-ms'], 20_000),
  hangMs: int('hang-ms', values['hang-ms'], 120_000),
  baselineMs: int('baseline-seconds', values['baseline-seconds'], 10) * 1000,
  minimiseMs: int('minimise-seconds', values['minimise-seconds'], 60) * 1000,
  log: (line) => console.log(line),
});
console.log(summary(report, `${kindsArg}${nodeArg}`));
process.exit(report.failures.length === 0 ? 0 : 1);

/** The closing summary. */
function summary(r: FuzzReport, kindsArg: string): string {
  const table = (t: Record<string, number>) =>
    Object.entries(t)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k}:${n}`)
      .join(' ');
  const latency = (b: FuzzReport['bystander']) =>
    `p50 ${b.p50Ms.toFixed(1)} ms, p99 ${b.p99Ms.toFixed(1)} ms, max ${b.maxMs.toFixed(1)} ms (${b.updates} updates)`;
  const seconds = r.casesMs / 1000;
  const lines = [
    `fuzz: seed ${r.seed} (target on Node ${r.node}): ${r.casesRun} cases in ${seconds.toFixed(1)} s (${(r.casesRun / seconds).toFixed(1)} cases/s at concurrency ${r.concurrency}; whole run ${(r.durationMs / 1000).toFixed(1)} s)`,
    `  CPU per case: driver ${r.cpuPerCase.driverMs.toFixed(2)} ms, target ${r.cpuPerCase.targetMs.toFixed(2)} ms; load average (1 min) mean ${r.load.mean.toFixed(1)}, max ${r.load.max.toFixed(1)} on ${availableParallelism()} cores`,
    `  kinds (cases, mean / p99 / max ms): ${Object.entries(r.kinds)
      .map(([k, f]) => `${k} ${f.cases} ${f.meanMs.toFixed(0)}/${f.p99Ms.toFixed(0)}/${f.maxMs.toFixed(0)}`)
      .join(', ')}`,
    `  gRPC statuses: ${table(r.grpcStatuses)}; HTTP statuses: ${table(r.httpStatuses)}`,
    `  streams reset by the server without a status: ${r.serverResets}; refused by the client library: ${r.refused}; calls that ended late (after --timeout-ms): ${r.lateCalls}`,
    `  bystander push latency: baseline (no fuzz) ${latency(r.bystanderBaseline)}; under fuzz ${latency(r.bystander)}`,
  ];
  if (r.memory !== undefined) {
    const m = (b: number) => (b / 1024 / 1024).toFixed(1);
    lines.push(
      `  target memory after GC: heap ${m(r.memory.baseline.heapUsed)} -> ${m(r.memory.end.heapUsed)} MiB, RSS ${m(r.memory.baseline.rss)} -> ${m(r.memory.end.rss)} MiB; cache keys ${r.memory.baseline.cacheKeys} -> ${r.memory.end.cacheKeys}`,
    );
  }
  if (r.failures.length === 0) lines.push('fuzz: every property held');
  for (const f of r.failures) {
    lines.push(`FAILED: ${f.property}: ${f.message}`);
    if (f.index !== undefined)
      lines.push(
        `  case #${f.index}: ${f.case}; replay: npm run fuzz -- --seed ${r.seed} --case ${f.index}${kindsArg}`,
      );
    if (f.file !== undefined) lines.push(`  saved case: ${f.file} (npm run fuzz -- --replay ${f.file})`);
    if (f.replay !== undefined)
      lines.push(`  the cases in flight, together: ${f.replay.command} (or --replay ${f.replay.file})`);
  }
  return lines.join('\n');
}
