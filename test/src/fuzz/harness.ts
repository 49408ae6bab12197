// The fuzz run: starts the target and the bystander process (the bystander and two decoy clients whose node ids
// regexes backtrack on, so that CSDS matchers meet them), measures the bystander's push latency with no fuzz (the
// baseline), throws cases at the target from a bounded pool, watches the properties (the process stays up and
// answers, every call ends as it must, the bystander keeps converging, streams and memory return to the baseline),
// and when one fails finds and shrinks the case that broke it.
import { BystanderProcess } from './bystander-process.js';
import { describeCase, type FuzzCase } from './case.js';
import { generateCase } from './cases.js';
import { decoyIds } from './decoys.js';
import { FlightLog, type FlightSnapshot } from './flight-log.js';
import { fuzzNames } from './fuzz-config.js';
import { defaultConcurrency, type FuzzFailure, type FuzzOptions, type FuzzReport } from './fuzz-report.js';
import { culprit, flightGraceMs, saveCase } from './inflight-report.js';
import { describeExit } from './ipc-child.js';
import { memoryFailures } from './memory-property.js';
import { vocabulary } from './messages.js';
import { runPool } from './pool.js';
import { Connections, type Deadlines, runCase } from './run-case.js';
import { RunFigures } from './run-figures.js';
import { startTarget, type TargetProcess } from './target-process.js';
import type { TargetOptions, TargetStats } from './target-protocol.js';

/**
 * How long the target may take to answer a stats request before its loop counts as blocked (the property "the
 * server keeps answering"): 30 s, well past what scheduling on a machine at load 60 adds (10 s was not), and far
 * below what a defect that blocks the loop (minutes, or for ever) costs.
 */
const unresponsiveMs = 30_000;

/** Cases that make the server answer hundreds of streams. */
function isHeavy(c: FuzzCase): boolean {
  return c.kind === 'many-streams' || c.kind === 'rst-storm';
}

/** Waits until the target has exited, or `ms` (so that a dying target's exit and stderr make the report). */
async function exitedWithin(target: TargetProcess, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([target.exited, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** Runs the fuzzer and reports; it never throws for a property that failed (see `failures`). */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const log = options.log ?? (() => {});
  const started = performance.now();
  const seed = options.seed;
  const first = options.first ?? 0;
  const concurrency = options.concurrency ?? defaultConcurrency;
  const deadlines: Deadlines = { lateMs: options.lateMs ?? 20_000, hangMs: options.hangMs ?? 120_000 };
  const targetOptions: TargetOptions = {
    pushMs: 500,
    bystanderNode: `bystander-${seed}`,
    firstRequestTimeoutMs: 2000,
    drainTimeoutMs: 3000,
    ...(options.gcEveryMs === undefined ? {} : { gcEveryMs: options.gcEveryMs }),
    ...(options.node === undefined ? {} : { node: options.node }),
  };
  const v = vocabulary(fuzzNames());
  const caseAt = (index: number) => options.replay ?? generateCase(seed, index, v, options.kinds);
  const only = options.only;
  // The pool runs positions 0..total; a position is a case index (a run) or an entry of `only` (a replay).
  const total = only === undefined ? options.cases : only.length * Math.max(1, options.repeat ?? 1);
  const entryAt = (position: number): { index: number; c: FuzzCase } => {
    if (only === undefined) return { index: first + position, c: caseAt(first + position) };
    const entry = only[position % only.length]!;
    return { index: entry.index, c: entry.c ?? caseAt(entry.index) };
  };
  const replayArgs = {
    seed,
    concurrency,
    ...(options.node === undefined ? {} : { node: options.node }),
    ...(options.kinds === undefined ? {} : { kinds: [...options.kinds] }),
  };
  // The bystander's process loads while the target starts.
  const bystanderStarting = BystanderProcess.start();
  let target: Awaited<ReturnType<typeof startTarget>> | undefined;
  let bystander: BystanderProcess;
  try {
    target = await startTarget(targetOptions);
    bystander = await bystanderStarting.connect(`127.0.0.1:${target.grpcPort}`, targetOptions.bystanderNode);
  } catch (error) {
    await Promise.all([bystanderStarting.abandon(), target?.stop()]);
    throw error;
  }
  const clientStreams = decoyIds.length + 1;
  const connections = new Connections(target.grpcPort, target.restPort);
  log(
    `fuzz: target (pid ${target.pid}, Node ${target.node}) and bystander up in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );

  // The baseline: the bystander's push latency while nothing else runs.
  await new Promise((resolve) => setTimeout(resolve, options.baselineMs ?? 10_000));
  const bystanderBaseline = await bystander.health(true);

  const figures = new RunFigures();
  const failures: FuzzFailure[] = [];
  const flight = new FlightLog();
  let stop = false;
  let done = 0;
  const warmup = Math.min(500, Math.floor(total / 10));
  let baseline: TargetStats | undefined;
  let baselineTaken: Promise<void> | undefined;
  let targetBroke: { property: string; message: string; flight: FlightSnapshot } | undefined;

  const fail = (failure: FuzzFailure) => {
    failures.push(failure);
    stop = true;
  };
  const targetFailure = (property: string, message: string) => {
    if (targetBroke !== undefined || stop) return;
    targetBroke = { property, message, flight: flight.snapshot(flightGraceMs) };
    stop = true;
  };
  void target.exited.then((exit) =>
    targetFailure('the server process stays up', `the target exited (${describeExit(exit)})`),
  );

  const runOne = async (position: number, { index, c }: { index: number; c: FuzzCase }) => {
    if (position >= warmup) {
      // The first case past the warm-up takes the memory baseline; the others wait for it.
      baselineTaken ??= target.stats(true).then(
        (stats) => {
          baseline = stats;
        },
        () => {},
      );
      await baselineTaken;
    }
    const at = performance.now();
    const token = flight.start(index, c, at);
    const result = await runCase(c, connections, deadlines);
    const end = performance.now();
    flight.end(token, end);
    figures.record(c.kind, end - at, result.calls);
    done++;
    if (result.failure === undefined || stop) return;
    // A hang may be the whole server stuck: then the case is one of many suspects.
    const stats = target.dead ? undefined : await target.stats(false, 10_000).catch(() => undefined);
    if (stats === undefined) {
      await exitedWithin(target, 10_000);
      targetFailure('the server keeps answering', 'the target stopped answering while cases were in flight');
      return;
    }
    const errors = stats.connectionErrors.length === 0 ? 'none' : stats.connectionErrors.join('; ');
    const state = `the target then had ${stats.streams} open streams, ${stats.bytesInFlight} response bytes unflushed; connections it ended on an error: ${errors}`;
    fail({
      property: 'every call ends with a status',
      message: `${result.failure}; ${state}`,
      index,
      case: describeCase(c),
      file: saveCase(seed, index, c),
    });
  };

  let watching = false;
  const watchdog = setInterval(() => {
    figures.sampleLoad();
    if (stop || watching) return;
    watching = true;
    const checks = [
      bystander.health().then(async (h) => {
        if (h.ended !== undefined) {
          // A target that died also drops the bystander's connection, and that can be seen first: then the
          // exit is the finding (reported by `target.exited` above), not the bystander.
          await exitedWithin(target, 10_000);
          if (targetBroke === undefined)
            fail({ property: 'the bystander keeps converging', message: `its stream ended: ${h.ended}` });
        } else if (h.quietMs > 30_000)
          fail({
            property: 'the bystander keeps converging',
            message: `no update for ${Math.round(h.quietMs)} ms while the target pushes every ${targetOptions.pushMs} ms`,
          });
      }),
      target.stats(false, unresponsiveMs).catch(async () => {
        // A target that is dying closes its IPC channel before its exit is seen: then the exit is the finding.
        await exitedWithin(target, 10_000);
        targetFailure(
          'the server keeps answering',
          `the target did not answer for ${unresponsiveMs / 1000} s (event loop blocked)`,
        );
      }),
    ];
    void Promise.allSettled(checks).then(() => {
      watching = false;
    });
  }, 2000);
  const casesStarted = performance.now();
  const driverCpu = process.cpuUsage();
  const targetCpu = (await target.stats(false)).cpuMs;
  let lastDone = 0;
  const progress = setInterval(() => {
    void bystander.health().then(
      (b) => {
        const rate = (done - lastDone) / 10;
        lastDone = done;
        log(
          `fuzz: ${done} cases, ${Math.round((performance.now() - casesStarted) / 1000)} s, ${rate.toFixed(0)} cases/s, ` +
            `${figures.lateCalls} late calls, bystander p50 ${b.p50Ms.toFixed(1)} ms p99 ${b.p99Ms.toFixed(1)} ms`,
        );
      },
      () => {},
    );
  }, 10_000);

  await runPool(
    {
      from: 0,
      to: total,
      concurrency,
      heavy: options.heavyConcurrency ?? 4,
      take: entryAt,
      isHeavy: (entry) => isHeavy(entry.c),
      stopped: () => stop,
    },
    runOne,
  );
  const casesMs = performance.now() - casesStarted;
  const driverCpuMs = (({ user, system }) => (user + system) / 1000)(process.cpuUsage(driverCpu));
  const targetCpuMs = target.dead
    ? Number.NaN
    : await target.stats(false).then(
        (stats) => stats.cpuMs - targetCpu,
        () => Number.NaN,
      );
  clearInterval(progress);
  connections.close();

  let memory: FuzzReport['memory'];
  if (!stop && !target.dead) {
    const settled = await target.settle(clientStreams, 30_000);
    log(
      `fuzz: streams settled ${((performance.now() - casesStarted - casesMs) / 1000).toFixed(1)} s after the last case`,
    );
    if (settled.streams > clientStreams)
      fail({
        property: 'streams return to the baseline',
        message: `${settled.streams - clientStreams} fuzz streams still open 30 s after the last case`,
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
    const endStats = await target.stats(true).catch(() => undefined);
    if (baseline !== undefined && endStats !== undefined) {
      memory = { baseline, end: endStats };
      failures.push(...memoryFailures(baseline, endStats, options));
    }
  }
  clearInterval(watchdog);
  const health = await bystander.health().catch(() => undefined);
  if (health?.ended !== undefined && !failures.some((f) => f.property === 'the bystander keeps converging'))
    failures.push({
      property: 'the bystander keeps converging',
      message: `its stream ended: ${health.ended}`,
    });
  await bystander.stop();
  if (targetBroke !== undefined) {
    await exitedWithin(target, 10_000);
    if (target.dead && targetBroke.property !== 'the server process stays up') {
      // It died: whatever was noticed first (a call, the watchdog) was the death seen from outside.
      const exit = await target.exited;
      targetBroke = {
        ...targetBroke,
        property: 'the server process stays up',
        message: `the target exited (${describeExit(exit)}); noticed first: ${targetBroke.message}`,
      };
    }
    const message = `${targetBroke.message}${target.dead ? `; stderr:\n${target.stderrTail().trim().slice(-2000)}` : ''}`;
    await target.stop();
    failures.push(
      await culprit(
        seed,
        targetOptions,
        deadlines,
        targetBroke,
        message,
        options.minimiseMs ?? 60_000,
        log,
        replayArgs,
      ),
    );
  } else await target.stop();

  return {
    seed,
    node: target.node,
    casesRun: done,
    concurrency,
    casesMs,
    durationMs: performance.now() - started,
    cpuPerCase: { driverMs: driverCpuMs / Math.max(1, done), targetMs: targetCpuMs / Math.max(1, done) },
    ...figures.counts(),
    bystanderBaseline,
    bystander: health ?? { updates: 0, p50Ms: Number.NaN, p99Ms: Number.NaN, maxMs: Number.NaN },
    ...(memory === undefined ? {} : { memory }),
    failures,
  };
}
