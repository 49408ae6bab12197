// The bounds on what a model file may cost to read (rule L2: bounded by configuration, not by whoever writes the
// file). A file is text anyone with write access controls: without these, 20 KB of nested brackets overflows the
// YAML library's stack (and V8 then aborts the process), and one anchor aliased a thousand times expands 100 KB
// into a million endpoints; a small file whose subsets each select every endpoint multiplies them the same way in
// the generator. parseModel checks each before the work it bounds, and names the limit it hit.

/** The bounds parseModel applies to a model's text; each has a default in {@link defaultModelLimits}. */
export interface ModelLimits {
  /** The largest text, in UTF-8 bytes; default 4 MiB. */
  readonly maxBytes: number;
  /**
   * The deepest nesting of mappings and lists (flow or block); default 64 (a model needs about 10). At most
   * {@link maxModelDepthCeiling}: the YAML library composes recursively.
   */
  readonly maxDepth: number;
  /**
   * The most values (mappings, lists, keys and scalars) after expanding aliases: the size of the model the checks
   * and the generator walk; default 1,000,000. An alias counts as the whole value it repeats, every time.
   */
  readonly maxNodes: number;
  /** The most errors reported for one text; past it, one more error says how many were left out. Default 100. */
  readonly maxErrors: number;
  /**
   * The most subsets one service may define; default 256. Checking a subset walks the service's endpoints, so
   * this bounds the checks' work as well as the clusters.
   */
  readonly maxSubsetsPerService: number;
  /**
   * The most clusters the model generates: the sum over services of ports × (1 + subsets); default 10,000.
   * Counted from the model, before anything is generated.
   */
  readonly maxGeneratedClusters: number;
  /**
   * The most endpoints the generated assignments hold together: each port's cluster holds every endpoint of its
   * service, each subset's cluster the endpoints the subset selects; default 100,000. Counted, not built: a 600 KB
   * file of 10,000 endpoints and 100 subsets selecting all of them would otherwise generate 1,010,000.
   */
  readonly maxGeneratedEndpoints: number;
}

/** The defaults of {@link ModelLimits}. */
export const defaultModelLimits: ModelLimits = Object.freeze({
  maxBytes: 4 * 1024 * 1024,
  maxDepth: 64,
  maxNodes: 1_000_000,
  maxErrors: 100,
  maxSubsetsPerService: 256,
  maxGeneratedClusters: 10_000,
  maxGeneratedEndpoints: 100_000,
});

/** The highest maxDepth accepted: deeper than this, composing the document could overflow the stack. */
export const maxModelDepthCeiling = 1000;

/** The defaults with `overrides` applied; throws a RangeError for a limit that is not a positive integer. */
export function resolveModelLimits(overrides: Partial<ModelLimits> = {}): ModelLimits {
  const limits = { ...defaultModelLimits, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`model limit ${name} must be a positive integer, got ${String(value)}`);
    }
  }
  if (limits.maxDepth > maxModelDepthCeiling) {
    throw new RangeError(
      `model limit maxDepth must be at most ${maxModelDepthCeiling}, got ${limits.maxDepth}`,
    );
  }
  return limits;
}

/** `4,194,304` */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}
