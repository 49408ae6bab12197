// The fuzz run: starts the target, connects the bystander and two decoy clients (node ids that regexes backtrack
// on, so that CSDS matchers meet them), throws cases at the target from several concurrent workers, watches the
// properties (the process stays up and answers, every call ends as it must, the bystander keeps converging,
// streams and memory return to the baseline), and when one fails finds and shrinks the case that broke it.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bystander, type BystanderStats } from './bystander.js';
import { caseToJson, describeCase, type FuzzCase } from './case.js';
import { type CaseKind, generateCase } from './cases.js';
import { connectDecoys } from './decoys.js';
import { fuzzNames } from './fuzz-config.js';
import { vocabulary } from './messages.js';
import { type Breakage, identify, minimise, Reproducer } from './reproduce.js';
import { Connections, runCase } from './run-case.js';
import { describeExit, startTarget } from './target-process.js';
import type { TargetOptions, TargetStats } from './target-protocol.js';

/** Options of a fuzz run. */
export interface FuzzOptions {
  /** The run's seed: case `i` is generated from (seed, i). */
  readonly seed: number;
  /** Cases to run. */
  readonly cases: number;
  /** The index of the first case (with `cases: 1`, replays one case). */
  readonly first?: number;
  /** A saved case to run instead of generated ones. */
  readonly replay?: FuzzCase;
  /** Cases in flight at once. */
  readonly concurrency?: number;
  /** Only these kinds. */
  readonly kinds?: ReadonlySet<CaseKind>;
  /** How long a call may stay open before it counts as a hang (ms). */
  readonly caseTimeoutMs?: number;
  /** Time allowed to find and shrink the case that broke a property (ms); 0 skips it. */
  readonly minimiseMs?: number;
  /** Allowed growth of the target's heap from the baseline to the end, as a fraction (plus 8 MiB). */
  readonly heapGrowth?: number;
  /** Allowed growth of the target's RSS, as a fraction (plus 64 MiB). */
  readonly rssGrowth?: number;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

/** A property that failed, and the case that broke it when known. */
export interface FuzzFailure {
  readonly property: string;
  readonly message: string;
  readonly index?: number;
  readonly case?: string;
  /** The JSON file holding the (minimised) case, for `--replay`. */
  readonly file?: string;
}

/** What a run did and found. */
export interface FuzzReport {
  readonly seed: number;
  readonly casesRun: number;
  readonly durationMs: number;
  readonly kinds: Record<string, number>;
  readonly grpcStatuses: Record<string, number>;
  readonly httpStatuses: Record<string, number>;
  readonly serverResets: number;
  readonly refused: number;
  readonly bystander: BystanderStats;
  readonly memory?: { readonly baseline: TargetStats; readonly end: TargetStats };
  readonly failures: readonly FuzzFailure[];
}

const MiB = 1024 * 1024;

function count(table: Record<string, number>, key: string | number): void {
  table[key] = (table[key] ?? 0) + 1;
}

/** Runs the fuzzer and reports; it never throws for a property that failed (see `failures`). */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const log = options.log ?? (() => {});
  const started = performance.now();
  const seed = options.seed;
  const first = options.first ?? 0;
  const deadlineMs = options.caseTimeoutMs ?? 20_000;
  const targetOptions: TargetOptions = {
    pushMs: 500,
    bystanderNode: `bystander-${seed}`,
    firstRequestTimeoutMs: 2000,
    drainTimeoutMs: 3000,
  };
  const v = vocabulary(fuzzNames());
  const caseAt = (index: number) => options.replay ?? generateCase(seed, index, v, options.kinds);
  const target = await startTarget(targetOptions);
  const address = `127.0.0.1:${target.grpcPort}`;
  const bystander = await Bystander.connect(address, targetOptions.bystanderNode);
  const decoys = connectDecoys(address);
  const connections = new Connections(target.grpcPort, target.restPort);

  const kinds: Record<string, number> = {};
  const grpcStatuses: Record<string, number> = {};
  const httpStatuses: Record<string, number> = {};
  let serverResets = 0;
  let refused = 0;
  const failures: FuzzFailure[] = [];
  const inFlight = new Map<number, FuzzCase>();
  let stop = false;
  let next = first;
  let done = 0;
  const end = first + options.cases;
  const warmup = Math.min(500, Math.floor(options.cases / 10));
  let baseline: TargetStats | undefined;
  let baselineTaken: Promise<void> | undefined;
  let targetBroke:
    | { property: string; message: string; candidates: { index: number; c: FuzzCase }[] }
    | undefined;

  const fail = (failure: FuzzFailure) => {
    failures.push(failure);
    stop = true;
  };
  const targetFailure = (property: string, message: string) => {
    if (targetBroke !== undefined || stop) return;
    targetBroke = { property, message, candidates: [...inFlight].map(([index, c]) => ({ index, c })) };
    stop = true;
  };
  void target.exited.then((exit) =>
    targetFailure('the server process stays up', `the target exited (${describeExit(exit)})`),
  );

  const worker = async () => {
    while (!stop && next < end) {
      const index = next++;
      if (index - first >= warmup && !stop) {
        // The first worker past the warm-up takes the baseline; the others wait for it.
        baselineTaken ??= target.stats(true).then(
          (stats) => {
            baseline = stats;
          },
          () => {},
        );
        await baselineTaken;
      }
      const c = caseAt(index);
      count(kinds, c.kind);
      inFlight.set(index, c);
      const result = await runCase(c, connections, deadlineMs);
      inFlight.delete(index);
      done++;
      for (const call of result.calls) {
        if (call.status !== undefined) count(grpcStatuses, call.status);
        if (call.http !== undefined) count(httpStatuses, call.http);
        if (call.reset) serverResets++;
        if (call.refused !== undefined) refused++;
      }
      if (result.failure !== undefined && !stop) {
        // A hang may be the whole server stuck: then the case is one of many suspects.
        const stats = target.dead ? undefined : await target.stats(false, 5000).catch(() => undefined);
        if (stats === undefined)
          targetFailure(
            'the server keeps answering',
            'the target stopped answering while cases were in flight',
          );
        else {
          const file = save(seed, index, c);
          const state = `the target then had ${stats.streams} open streams, ${stats.bytesInFlight} response bytes unflushed`;
          fail({
            property: 'every call ends with a status',
            message: `${result.failure}; ${state}`,
            index,
            case: describeCase(c),
            file,
          });
        }
      }
    }
  };

  const watchdog = setInterval(() => {
    if (stop) return;
    if (bystander.ended !== undefined)
      fail({ property: 'the bystander keeps converging', message: `its stream ended: ${bystander.ended}` });
    else if (bystander.quietMs > 30_000)
      fail({
        property: 'the bystander keeps converging',
        message: `no update for ${Math.round(bystander.quietMs)} ms while the target pushes every ${targetOptions.pushMs} ms`,
      });
    target
      .stats(false, 10_000)
      .catch(() =>
        targetFailure(
          'the server keeps answering',
          'the target did not answer for 10 s (event loop blocked)',
        ),
      );
  }, 2000);
  const progress = setInterval(() => {
    const b = bystander.stats();
    log(
      `fuzz: ${done} cases, ${Math.round((performance.now() - started) / 1000)} s, bystander p50 ${b.p50Ms.toFixed(1)} ms p99 ${b.p99Ms.toFixed(1)} ms`,
    );
  }, 10_000);

  await Promise.all(Array.from({ length: options.concurrency ?? 32 }, worker));
  clearInterval(progress);
  connections.close();

  let memory: FuzzReport['memory'];
  if (!stop && !target.dead) {
    const settled = await settle(target, decoys.length + 1);
    if (settled.streams > decoys.length + 1)
      fail({
        property: 'streams return to the baseline',
        message: `${settled.streams - decoys.length - 1} fuzz streams still open 30 s after the last case`,
      });
    try {
      const version = await target.push();
      await bystander.converge(version, 30_000);
    } catch (error) {
      fail({
        property: 'the bystander keeps converging',
        message: `it did not get the last push: ${(error as Error).message}`,
      });
    }
    if (bystander.ended !== undefined)
      fail({ property: 'the bystander keeps converging', message: `its stream ended: ${bystander.ended}` });
    const endStats = await target.stats(true).catch(() => undefined);
    if (baseline !== undefined && endStats !== undefined) {
      memory = { baseline, end: endStats };
      const heapLimit = baseline.heapUsed * (1 + (options.heapGrowth ?? 0.25)) + 8 * MiB;
      const rssLimit = baseline.rss * (1 + (options.rssGrowth ?? 0.5)) + 64 * MiB;
      if (endStats.heapUsed > heapLimit)
        fail({
          property: 'memory returns near the baseline',
          message: `heap ${mib(baseline.heapUsed)} -> ${mib(endStats.heapUsed)} MiB (limit ${mib(heapLimit)})`,
        });
      if (endStats.rss > rssLimit)
        fail({
          property: 'memory returns near the baseline',
          message: `RSS ${mib(baseline.rss)} -> ${mib(endStats.rss)} MiB (limit ${mib(rssLimit)})`,
        });
    }
  }
  clearInterval(watchdog);
  const bystanderStats = bystander.stats();
  await Promise.all([bystander.close(), ...decoys.map((d) => d.close())]);
  if (targetBroke !== undefined) {
    const message = `${targetBroke.message}${target.dead ? `; stderr:\n${target.stderrTail().trim().slice(-2000)}` : ''}`;
    await target.stop();
    failures.push(
      await culprit(seed, targetOptions, deadlineMs, targetBroke, message, options.minimiseMs ?? 60_000, log),
    );
  } else await target.stop();

  return {
    seed,
    casesRun: done,
    durationMs: performance.now() - started,
    kinds,
    grpcStatuses,
    httpStatuses,
    serverResets,
    refused,
    bystander: bystanderStats,
    ...(memory === undefined ? {} : { memory }),
    failures,
  };
}

/** Polls the target until its open streams fall to `expected` or 30 s pass; returns the last figures. */
async function settle(
  target: { stats(gc: boolean): Promise<TargetStats> },
  expected: number,
): Promise<TargetStats> {
  const until = performance.now() + 30_000;
  for (;;) {
    const stats = await target.stats(false);
    if (stats.streams <= expected || performance.now() > until) return stats;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Finds, among the cases in flight when the target broke, the one that breaks it alone, and shrinks it. */
async function culprit(
  seed: number,
  targetOptions: TargetOptions,
  deadlineMs: number,
  broke: { property: string; candidates: { index: number; c: FuzzCase }[] },
  message: string,
  budgetMs: number,
  log: (line: string) => void,
): Promise<FuzzFailure> {
  const indexes = broke.candidates.map((x) => x.index).sort((a, b) => a - b);
  if (budgetMs <= 0 || broke.candidates.length === 0)
    return { property: broke.property, message: `${message}\ncases in flight: ${indexes.join(', ')}` };
  log(`fuzz: the target broke with ${indexes.length} case(s) in flight; replaying them one by one`);
  const reproducer = new Reproducer(targetOptions, Math.min(deadlineMs, 10_000));
  try {
    const found = await identify(reproducer, broke.candidates, budgetMs);
    if (found === undefined)
      return {
        property: broke.property,
        message: `${message}\nno single case of ${indexes.join(', ')} broke it alone`,
      };
    log(`fuzz: case ${found.index} breaks it alone (${found.breakage}); shrinking it`);
    const small = await minimise(reproducer, found.c, found.breakage as Breakage, budgetMs / 2);
    const file = save(seed, found.index, small.c);
    return {
      property: broke.property,
      message: `${message}\ncase ${found.index} alone: ${found.detail}\nminimised in ${small.attempts} attempts to: ${describeCase(small.c)}`,
      index: found.index,
      case: describeCase(found.c),
      file,
    };
  } finally {
    await reproducer.close();
  }
}

function save(seed: number, index: number, c: FuzzCase): string {
  const file = join(tmpdir(), `xds-fuzz-${seed}-${index}.json`);
  writeFileSync(file, JSON.stringify({ seed, index, case: caseToJson(c) }, null, 1));
  return file;
}

function mib(bytes: number): string {
  return (bytes / MiB).toFixed(1);
}
