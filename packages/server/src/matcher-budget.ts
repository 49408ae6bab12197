/**
 * What the matchers of one request (a CSDS call's node matchers) may cost, counted as they are compiled and as they
 * run (rules L2, L3). Bytes and nesting were bounded before (`maxStatusMatcherBytes`, `maxNodeMetadataDepth`), but
 * not width times data: one 16 KiB matcher compiled to 1,480 `list_match`es in an `or_match`, and 100 of them against
 * a node whose metadata held a 9,000-entry list made 1.3e9 predicate calls in one synchronous match, 12 s during
 * which no other client was served (probe finding Q1, review R11); 100 node-id regexes of 1,800 instructions each
 * cost 6 s to build their automata (probe finding Q7). So a request's matchers are held to:
 *
 * - `limits.maxStatusMatcherNodes`: every ValueMatcher and StringMatcher compiled, refused INVALID_ARGUMENT before
 *   anything runs;
 * - `limits.maxStatusRegexProgramTotal`: the program sizes of all its regexes together (each is held to
 *   `maxRegexProgramSize` too), refused INVALID_ARGUMENT before the regex past it is compiled;
 * - `limits.maxStatusMatchSteps`: the work of matching, across every node the request is matched against: one step
 *   per matcher run on a value and per path key walked, and one per 64 characters a string matcher reads (16 for a
 *   regex). Past it the call ends with RESOURCE_EXHAUSTED naming the limit.
 *
 * The counts live on the request's {@link MatcherBudget}, which its caller makes once per request.
 */
import { Code, XdsError } from '@xds/api';
import { defaultLimits, type ResolvedLimits } from './limits.js';

/**
 * What compiling and running one request's matchers has spent (rules L2, L3). A caller makes one per request
 * (`{ regexes: 0 }`); the other counts start at zero when first spent.
 */
export interface MatcherBudget {
  /** Regexes compiled so far, against `limits.maxStatusMatchers`. */
  regexes: number;
  /** ValueMatchers and StringMatchers compiled so far, against `limits.maxStatusMatcherNodes`. */
  nodes?: number;
  /** Program sizes of the regexes compiled so far, against `limits.maxStatusRegexProgramTotal`. */
  program?: number;
  /** Steps of matching run so far, against `limits.maxStatusMatchSteps`. */
  steps?: number;
}

/**
 * The limits that bound the matchers of one request. The three request-wide ones are optional so that a caller
 * holding only the older ones still compiles; a missing one takes its default.
 */
export type MatcherLimits = Pick<
  ResolvedLimits,
  'maxRegexBytes' | 'maxRegexProgramSize' | 'maxStatusMatchers' | 'maxNodeMetadataDepth'
> &
  Partial<
    Pick<ResolvedLimits, 'maxStatusMatcherNodes' | 'maxStatusRegexProgramTotal' | 'maxStatusMatchSteps'>
  >;

/** A request's budget with the limits it is held to: what the matcher compilers take. */
export interface RequestMatchers {
  readonly budget: MatcherBudget;
  readonly limits: MatcherLimits;
}

/** Counts one regex against `limits.maxStatusMatchers` before it is compiled. */
export function spendRegex(budget: MatcherBudget, limits: MatcherLimits, what: string): void {
  budget.regexes++;
  if (budget.regexes > limits.maxStatusMatchers)
    throw new XdsError(
      Code.InvalidArgument,
      `${what}: the request holds more than limits.maxStatusMatchers (${limits.maxStatusMatchers}) regexes`,
    );
  // A caller that counts a node id's regex here and then compiles it without its budget (csds.ts does) still has
  // the regex's program and steps counted: the next compileStringMatcher named `what` takes this budget.
  pending = { what, request: { budget, limits } };
}

/** The budget {@link spendRegex} left for the StringMatcher it counted, until the next one is compiled. */
let pending: { what: string; request: RequestMatchers } | undefined;

/** The budget left by {@link spendRegex} for the StringMatcher named `what`, if any; clears it either way. */
export function takePending(what: string): RequestMatchers | undefined {
  const left = pending;
  pending = undefined;
  return left?.what === what ? left.request : undefined;
}

/** Counts one compiled ValueMatcher or StringMatcher against `limits.maxStatusMatcherNodes`. */
export function spendNode({ budget, limits }: RequestMatchers, what: string): void {
  const max = limits.maxStatusMatcherNodes ?? defaultLimits.maxStatusMatcherNodes;
  budget.nodes = (budget.nodes ?? 0) + 1;
  if (budget.nodes > max)
    throw new XdsError(
      Code.InvalidArgument,
      `${what}: the request's matchers hold more than limits.maxStatusMatcherNodes (${max}) value and string matchers`,
    );
}

/** Counts a regex's program size against `limits.maxStatusRegexProgramTotal`, before it is compiled. */
export function spendProgram({ budget, limits }: RequestMatchers, size: number, what: string): void {
  const max = limits.maxStatusRegexProgramTotal ?? defaultLimits.maxStatusRegexProgramTotal;
  budget.program = (budget.program ?? 0) + size;
  if (budget.program > max)
    throw new XdsError(
      Code.InvalidArgument,
      `${what}: the request's regexes may compile to ${budget.program} instructions together, more than limits.maxStatusRegexProgramTotal (${max})`,
    );
}

/** Counts `steps` of matching; past `limits.maxStatusMatchSteps` throws RESOURCE_EXHAUSTED naming it. */
export type Stepper = (steps: number) => void;

/** The {@link Stepper} of one request. */
export function stepper({ budget, limits }: RequestMatchers): Stepper {
  const max = limits.maxStatusMatchSteps ?? defaultLimits.maxStatusMatchSteps;
  return (steps) => {
    budget.steps = (budget.steps ?? 0) + steps;
    if (budget.steps > max)
      throw new XdsError(
        Code.ResourceExhausted,
        `matching the request's node matchers took more than limits.maxStatusMatchSteps (${max}) steps: ask with fewer or simpler matchers`,
      );
  };
}
