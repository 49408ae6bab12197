// What a fuzz run is asked (its options) and what it reports (counts, the bystander's latency, memory, the
// properties that failed): the interface of harness.ts's runFuzz, read by main.ts, fuzz.test.ts and
// inflight-report.ts.
import type { BystanderStats } from './bystander.js';
import type { FuzzCase } from './case.js';
import type { CaseKind } from './cases.js';
import type { RunCounts } from './run-figures.js';
import type { TargetStats } from './target-protocol.js';

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
  /**
   * Exactly these cases, all at once at `concurrency`, instead of `first`.. (`cases` is ignored): a replay of the
   * cases in flight when a target broke. A case without `c` is generated from (seed, index).
   */
  readonly only?: readonly { readonly index: number; readonly c?: FuzzCase }[];
  /** Runs `only` this many times over (a race needs its timing again); default 1. */
  readonly repeat?: number;
  /** Cases in flight at once; default {@link defaultConcurrency}. */
  readonly concurrency?: number;
  /** Heavy cases (hundreds of answered streams) in flight at once; default 4. */
  readonly heavyConcurrency?: number;
  /** Only these kinds. */
  readonly kinds?: ReadonlySet<CaseKind>;
  /** A call still open this long is late: counted, not a failure (ms); default 20 s. */
  readonly lateMs?: number;
  /** A call still open this long is a hang: a failure (ms); default 120 s. */
  readonly hangMs?: number;
  /** How long to measure the bystander's push latency before the first case (ms); default 10 s. */
  readonly baselineMs?: number;
  /** Time allowed to find and shrink the case that broke a property (ms); 0 skips it. */
  readonly minimiseMs?: number;
  /** The target collects its young generation this often (ms); default never (V8's own collections only). */
  readonly gcEveryMs?: number;
  /** The Node executable that runs the target (node-binary.ts); default: the driver's own. */
  readonly node?: string;
  /** Allowed growth of the target's heap from the baseline to the end, as a fraction (plus 8 MiB). */
  readonly heapGrowth?: number;
  /** Allowed growth of the target's RSS, as a fraction (plus 64 MiB). */
  readonly rssGrowth?: number;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

/** Cases in flight by default: measured on a shared 2-core machine (docs/fuzzing.md, "Choosing the concurrency"). */
export const defaultConcurrency = 32;

/** A property that failed, and the case that broke it when known. */
export interface FuzzFailure {
  readonly property: string;
  readonly message: string;
  readonly index?: number;
  readonly case?: string;
  /** The JSON file holding the (minimised) case, for `--replay`. */
  readonly file?: string;
  /** When the target broke: the command that replays the cases in flight together, and their file. */
  readonly replay?: { readonly command: string; readonly file: string };
}

/** What a run did and found. */
export interface FuzzReport extends RunCounts {
  readonly seed: number;
  /** The Node version the target ran on (`v20.20.2`). */
  readonly node: string;
  readonly casesRun: number;
  readonly concurrency: number;
  /** From the first case to the last case's end (ms). */
  readonly casesMs: number;
  /** The whole run, start-up and checks included (ms). */
  readonly durationMs: number;
  /** CPU time per case (ms) of the driver and of the target, over the cases. */
  readonly cpuPerCase: { readonly driverMs: number; readonly targetMs: number };
  /** The bystander's push latency with no fuzz cases running, then while they ran. */
  readonly bystanderBaseline: BystanderStats;
  readonly bystander: BystanderStats;
  readonly memory?: { readonly baseline: TargetStats; readonly end: TargetStats };
  readonly failures: readonly FuzzFailure[];
}
