// The memory property of a fuzz run: once the cases are over and the target has collected its garbage, its heap and
// RSS are back near the baseline taken after the warm-up (within the run's allowed growth). A leak per case, per
// stream or per connection fails it.
import type { FuzzFailure, FuzzOptions } from './fuzz-report.js';
import type { TargetStats } from './target-protocol.js';

const MiB = 1024 * 1024;

/** The memory property: heap and RSS after GC at the end against the baseline, within the allowed growth. */
export function memoryFailures(baseline: TargetStats, end: TargetStats, options: FuzzOptions): FuzzFailure[] {
  const out: FuzzFailure[] = [];
  const heapLimit = baseline.heapUsed * (1 + (options.heapGrowth ?? 0.25)) + 8 * MiB;
  const rssLimit = baseline.rss * (1 + (options.rssGrowth ?? 0.5)) + 64 * MiB;
  if (end.heapUsed > heapLimit)
    out.push({
      property: 'memory returns near the baseline',
      message: `heap ${mib(baseline.heapUsed)} -> ${mib(end.heapUsed)} MiB (limit ${mib(heapLimit)})`,
    });
  if (end.rss > rssLimit)
    out.push({
      property: 'memory returns near the baseline',
      message: `RSS ${mib(baseline.rss)} -> ${mib(end.rss)} MiB (limit ${mib(rssLimit)})`,
    });
  return out;
}

function mib(bytes: number): string {
  return (bytes / MiB).toFixed(1);
}
