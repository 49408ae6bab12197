// The report of a fuzz run whose target broke (died, stopped answering, got stuck): the cases in flight at that
// moment and the last ones before them, saved to one file with the command that replays them together; then,
// among them, the case that breaks a fresh target alone, shrunk (docs/fuzzing.md, "When a property fails").
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caseToJson, describeCase, type FuzzCase } from './case.js';
import {
  describeEntries,
  type FlightSnapshot,
  type ReplayArgs,
  replayCommand,
  saveFlight,
} from './flight-log.js';
import type { FuzzFailure } from './fuzz-report.js';
import { type Breakage, identify, minimise, Reproducer } from './reproduce.js';
import type { Deadlines } from './run-case.js';
import type { TargetOptions } from './target-protocol.js';

/**
 * A dying target's connections fail the cases it served before its exit is seen: cases that ended this long
 * before the breakage was noticed count as in flight.
 */
export const flightGraceMs = 2000;

/**
 * Reports the cases in flight when the target broke (and the last ones before), with the command and the file
 * that replay them together; then finds, among them, the one that breaks it alone, and shrinks it.
 */
export async function culprit(
  seed: number,
  targetOptions: TargetOptions,
  deadlines: Deadlines,
  broke: { property: string; flight: FlightSnapshot },
  brokeMessage: string,
  budgetMs: number,
  log: (line: string) => void,
  replayArgs: ReplayArgs,
): Promise<FuzzFailure> {
  const inFlight = broke.flight.inFlight;
  const indexes = [...new Set(inFlight.map((x) => x.index))];
  const file = saveFlight(replayArgs, inFlight, `inflight-${indexes[0] ?? 0}`);
  const replay = { command: replayCommand(replayArgs, indexes, 20), file };
  const message =
    `${brokeMessage}\n${inFlight.length} case(s) in flight (or ended in the ${flightGraceMs} ms before it was noticed):\n` +
    `${describeEntries(inFlight, broke.flight.at)}\nthe ${broke.flight.recent.length} case(s) that ended before them: ` +
    `${broke.flight.recent.map((e) => `#${e.index} ${e.c.kind}`).join(', ')}`;
  const candidates = [...inFlight].sort((a, b) => a.index - b.index);
  if (budgetMs <= 0 || candidates.length === 0) return { property: broke.property, message, replay };
  log(`fuzz: the target broke with ${indexes.length} case(s) in flight; replaying them one by one`);
  const alone = Math.min(deadlines.lateMs, 10_000);
  const reproducer = new Reproducer(targetOptions, { lateMs: alone, hangMs: alone });
  try {
    const found = await identify(reproducer, candidates, budgetMs);
    if (found === undefined)
      return {
        property: broke.property,
        message: `${message}\nno single case of ${indexes.join(', ')} broke it alone`,
        replay,
      };
    log(`fuzz: case ${found.index} breaks it alone (${found.breakage}); shrinking it`);
    const small = await minimise(reproducer, found.c, found.breakage as Breakage, budgetMs / 2);
    return {
      property: broke.property,
      message: `${message}\ncase ${found.index} alone: ${found.detail}\nminimised in ${small.attempts} attempts to: ${describeCase(small.c)}`,
      index: found.index,
      case: describeCase(found.c),
      file: saveCase(seed, found.index, small.c),
      replay,
    };
  } finally {
    await reproducer.close();
  }
}

/** Saves a case (bytes in hex) for `--replay`; returns the file. */
export function saveCase(seed: number, index: number, c: FuzzCase): string {
  const file = join(tmpdir(), `xds-fuzz-${seed}-${index}.json`);
  writeFileSync(file, JSON.stringify({ seed, index, case: caseToJson(c) }, null, 1));
  return file;
}
