// What the fuzz run was doing when the target broke: the cases in flight and the last cases that ended. A target
// that dies takes its connections with it, so the cases it was serving fail at once and leave the pool before the
// driver sees the process exit; the log therefore also counts as "in flight" the cases that ended in the moments
// before the breakage was noticed. Their indexes, kinds and bytes go into the report and into one file, and a
// replay of exactly those cases at the run's concurrency is one command (docs/fuzzing.md, "When a property fails").
// Serves rules L1-L4: a finding the fuzzer cannot replay is a finding nobody can fix.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caseToJson, describeCase, type FuzzCase } from './case.js';

/** One case the log saw. */
export interface FlightEntry {
  /** The case's index within its seed. */
  readonly index: number;
  readonly c: FuzzCase;
  /** When it started and ended (`performance.now()`, ms); no end while in flight. */
  readonly startedAt: number;
  endedAt?: number;
}

/** The cases around a breakage. */
export interface FlightSnapshot {
  /** In flight when the breakage was noticed, or ended within the grace before it; in start order. */
  readonly inFlight: readonly FlightEntry[];
  /** The last cases that ended before those, oldest first. */
  readonly recent: readonly FlightEntry[];
  /** When the snapshot was taken (`performance.now()`, ms). */
  readonly at: number;
}

/** Default number of completed cases kept. */
export const defaultRecent = 64;

/** Records case starts and ends; keeps the cases in flight and the last `keep` that ended. */
export class FlightLog {
  readonly #open = new Map<number, FlightEntry>();
  readonly #ended: FlightEntry[] = [];
  readonly #keep: number;
  #slot = 0;

  constructor(keep = defaultRecent) {
    this.#keep = keep;
  }

  /** A case started; returns the token that ends it (a replay may run one index several times). */
  start(index: number, c: FuzzCase, at = performance.now()): number {
    const token = this.#slot++;
    this.#open.set(token, { index, c, startedAt: at });
    return token;
  }

  /** The case of `token` ended. */
  end(token: number, at = performance.now()): void {
    const entry = this.#open.get(token);
    if (entry === undefined) return;
    this.#open.delete(token);
    entry.endedAt = at;
    this.#ended.push(entry);
    // Keep twice the bound so that cases ending in the grace window are not lost, then trim in one go.
    if (this.#ended.length > 2 * (this.#keep + 256))
      this.#ended.splice(0, this.#ended.length - this.#keep - 256);
  }

  /** The cases open now and those that ended after `now - graceMs`, then the `keep` that ended before them. */
  snapshot(graceMs: number, now = performance.now()): FlightSnapshot {
    const since = now - graceMs;
    const late = this.#ended.filter((e) => (e.endedAt ?? now) >= since);
    const before = this.#ended.filter((e) => (e.endedAt ?? now) < since).slice(-this.#keep);
    const inFlight = [...late, ...this.#open.values()].sort((a, b) => a.startedAt - b.startedAt);
    return { inFlight, recent: before, at: now };
  }
}

/** How a run was started, for the replay command. */
export interface ReplayArgs {
  readonly seed: number;
  readonly concurrency: number;
  /** The kinds allowed, when not all (cases depend on them). */
  readonly kinds?: readonly string[];
  /** The Node executable the target ran on (`--node`), when not the driver's. */
  readonly node?: string;
}

/** The command that runs exactly these cases again, all at once at the run's concurrency, `repeat` times. */
export function replayCommand(args: ReplayArgs, indexes: readonly number[], repeat = 1): string {
  const kinds = args.kinds === undefined ? '' : ` --kinds ${args.kinds.join(',')}`;
  const node = args.node === undefined ? '' : ` --node ${args.node}`;
  return (
    `npm run fuzz -- --seed ${args.seed} --indices ${indexes.join(',')} --concurrency ${args.concurrency}` +
    `${repeat > 1 ? ` --repeat ${repeat}` : ''}${kinds}${node}`
  );
}

/** One line a case: index, kind, streams and bytes, and whether it was open at `at` or had ended. */
export function describeEntries(entries: readonly FlightEntry[], at: number): string {
  return entries
    .map((e) => {
      const age =
        e.endedAt === undefined || e.endedAt > at ? 'open' : `ended ${Math.round(at - e.endedAt)} ms before`;
      return `  #${e.index} ${describeCase(e.c)} (${age})`;
    })
    .join('\n');
}

/** Saves the cases (bytes in hex) to one file that `--replay` runs all at once; returns its path. */
export function saveFlight(args: ReplayArgs, entries: readonly FlightEntry[], name: string): string {
  const file = join(tmpdir(), `xds-fuzz-${args.seed}-${name}.json`);
  const cases = entries.map((e) => ({ index: e.index, case: caseToJson(e.c) }));
  writeFileSync(
    file,
    JSON.stringify({ seed: args.seed, concurrency: args.concurrency, kinds: args.kinds, cases }, null, 1),
  );
  return file;
}
