/**
 * The soak's memory figures (scenario "soak", issue 10: "RSS and heap at the end within 10% of the start"): where
 * the start is (after a warm-up, see {@link warmupMinutes}), the growth of the end over it and over the synced
 * state, and the trend of the warmed-up minutes as a least-squares slope, so that growth that goes on shows even
 * when the end is within the bound.
 */

/** The memory part of one soak sample (after GC). */
export interface MemoryPoint {
  readonly minute: number;
  readonly rssMB: number;
  readonly heapMB: number;
}

/**
 * The minute whose sample is the start of the memory check: 5 (1/4 of shorter runs; 0, the sample taken once
 * every client synced, below 4 minutes). The first minutes fill what a run fills once and then reuses (V8's
 * code and inline caches, grpc-js and HTTP/2 buffers and pools at their working size, the cache's interned names
 * and subscriptions of every client shape): measured from the synced state, that one-off growth would count as
 * a leak; from a warmed-up start, only growth that goes on does.
 */
export function warmupMinutes(minutes: number): number {
  return Math.min(5, Math.floor(minutes / 4));
}

/**
 * The least-squares slope of `what` over the samples from minute `from` on, in MB per 10 minutes (0 with fewer
 * than 2 samples).
 */
export function slopePer10Minutes(
  samples: readonly MemoryPoint[],
  from: number,
  what: 'rssMB' | 'heapMB',
): number {
  const points = samples.filter((s) => s.minute >= from);
  if (points.length < 2) return 0;
  const meanX = points.reduce((sum, s) => sum + s.minute, 0) / points.length;
  const meanY = points.reduce((sum, s) => sum + s[what], 0) / points.length;
  let sxy = 0;
  let sxx = 0;
  for (const s of points) {
    sxy += (s.minute - meanX) * (s[what] - meanY);
    sxx += (s.minute - meanX) ** 2;
  }
  return Math.round((100 * 10 * sxy) / sxx) / 100;
}

/** Growth of the end (and of the last minute) over the warmed-up start and over the synced state, as fractions. */
export function memoryGrowth(synced: MemoryPoint, start: MemoryPoint, last: MemoryPoint, end: MemoryPoint) {
  const growth = (from: MemoryPoint, to: MemoryPoint, what: 'rssMB' | 'heapMB') => to[what] / from[what] - 1;
  return {
    rssEnd: growth(start, end, 'rssMB'),
    heapEnd: growth(start, end, 'heapMB'),
    rssLastMinute: growth(start, last, 'rssMB'),
    heapLastMinute: growth(start, last, 'heapMB'),
    rssEndOverSynced: growth(synced, end, 'rssMB'),
    heapEndOverSynced: growth(synced, end, 'heapMB'),
  };
}
