/**
 * Envoy `StringMatcher`s from requests (CSDS node matchers), matched with RE2 semantics in linear time (rule L3 of
 * the protocol notes). A `safe_regex` is RE2 in Envoy and in gRPC; JavaScript's own engine backtracks, so a
 * 30-byte pattern such as `(.*)*Z` could keep the event loop busy for minutes and stall every client. Here every
 * regex is compiled by `re2js` (a port of RE2: no lookaround, no backreferences, time linear in the input), after
 * bounds on its length (`limits.maxRegexBytes`) and program (`maxRegexProgramSize`), and kept by pattern
 * (regex-cache.ts). A request's matchers (given with their {@link RequestMatchers}) are counted as well: each
 * StringMatcher against `limits.maxStatusMatcherNodes`, each regex's program against `maxStatusRegexProgramTotal`,
 * and what each match reads against `maxStatusMatchSteps` (matcher-budget.ts, rule L2).
 */
import { Code, type StringMatcher, XdsError } from '@xds/api';
import type { RE2JS } from 're2js';
import { defaultLimits } from './limits.js';
import { type RequestMatchers, spendNode, spendProgram, stepper, takePending } from './matcher-budget.js';
import { cachedRe2 } from './regex-cache.js';
import { regexSizeBound } from './regex-size.js';

/** A compiled matcher: true when the whole string matches. */
export type StringPredicate = (value: string) => boolean;

/** The bound on a regex's UTF-8 bytes when no limit is given: the server's, `defaultLimits.maxRegexBytes`. */
const defaultMaxRegexBytes = defaultLimits.maxRegexBytes;
/**
 * The bound on a regex's program when no limit is given: the server's, `defaultLimits.maxRegexProgramSize` (200), so
 * that an application matching request text with these functions gets the bound CSDS has (review11 F13: it was
 * RE2's own 2,000, under which probe Q7's `([ab]?){300}[ab]{300}|xN`, about 1,820 instructions, took 240-290 ms).
 */
const defaultMaxProgramSize = defaultLimits.maxRegexProgramSize;

/** Characters a string matcher reads per step (`limits.maxStatusMatchSteps`); a regex reads 16 per step. */
const charsPerStep = 64;
const regexCharsPerStep = 16;

/**
 * `ignore_case` folds the value at every leaf: the last value folded is kept, so that many matchers of one node
 * (an `or_match` of 1,600 `contains` on a 900 KB value cost 3.4 s, probe finding Q1) fold it once.
 */
let lastRaw: string | undefined;
let lastFolded = '';
function foldOnce(value: string, step: ((steps: number) => void) | undefined): string {
  if (value !== lastRaw) {
    step?.(1 + Math.floor(value.length / charsPerStep));
    lastFolded = value.toLowerCase();
    lastRaw = value;
  }
  return lastFolded;
}

/**
 * Compiles an RE2 regex that must match a whole string. Throws an XdsError (INVALID_ARGUMENT) naming the problem
 * for a pattern RE2 rejects (lookaround, backreferences, bad syntax), one longer than `maxBytes`, or one whose
 * program may be larger than `maxProgramSize` instructions (bounded from its text, before compiling: rule L3), or,
 * with a `request`, one that takes the request's regexes past `limits.maxStatusRegexProgramTotal`; its matches then
 * count against `limits.maxStatusMatchSteps` (RESOURCE_EXHAUSTED past it). `maxBytes` and `maxProgramSize` default
 * to the server's `defaultLimits.maxRegexBytes` (1,024) and `defaultLimits.maxRegexProgramSize` (200).
 */
export function compileRe2(
  pattern: string,
  what: string,
  maxBytes = defaultMaxRegexBytes,
  maxProgramSize = defaultMaxProgramSize,
  request?: RequestMatchers,
): StringPredicate {
  const bytes = Buffer.byteLength(pattern, 'utf8');
  if (bytes > maxBytes) {
    throw new XdsError(
      Code.InvalidArgument,
      `${what}: the regex is ${bytes} bytes, more than limits.maxRegexBytes (${maxBytes})`,
    );
  }
  const size = regexSizeBound(pattern);
  if (size > maxProgramSize) {
    throw new XdsError(
      Code.InvalidArgument,
      `${what}: the regex may compile to ${size} instructions, more than limits.maxRegexProgramSize (${maxProgramSize})`,
    );
  }
  if (request !== undefined) spendProgram(request, size, what);
  let re: RE2JS;
  try {
    re = cachedRe2(pattern);
  } catch (error) {
    throw new XdsError(
      Code.InvalidArgument,
      `${what}: ${JSON.stringify(pattern)} is not an RE2 regex (${(error as Error).message})`,
      { cause: error },
    );
  }
  if (request === undefined) return (value) => re.matches(value);
  const step = stepper(request);
  return (value) => {
    step(1 + Math.floor(value.length / regexCharsPerStep));
    return re.matches(value);
  };
}

/**
 * Compiles an Envoy StringMatcher (exact, prefix, suffix, contains, safe_regex; `ignore_case` applies to all but
 * the regex, as in Envoy). An absent matcher, or one without a pattern, matches everything. Throws an XdsError
 * (INVALID_ARGUMENT) for a regex RE2 rejects, one longer than `maxRegexBytes` or one whose program may pass
 * `maxRegexProgramSize` (both default to the server's `defaultLimits`, as in CSDS). With a `request` (or when
 * `spendRegex` counted this matcher's regex under the same `what` just before), the matcher counts against the
 * request's limits as `compileRe2` says, and against `limits.maxStatusMatcherNodes`.
 */
export function compileStringMatcher(
  matcher: StringMatcher | undefined,
  what = 'string matcher',
  maxRegexBytes = defaultMaxRegexBytes,
  maxRegexProgramSize = defaultMaxProgramSize,
  request: RequestMatchers | undefined = takePending(what),
): StringPredicate {
  if (matcher === undefined) return () => true;
  if (request !== undefined) spendNode(request, what);
  const step = request === undefined ? undefined : stepper(request);
  const pattern = matcher.matchPattern;
  const fold = matcher.ignoreCase ? (s: string) => foldOnce(s, step) : (s: string) => s;
  // One step per call, and one per `charsPerStep` characters the comparison may read.
  const read =
    step === undefined
      ? () => {}
      : (value: string, want: string) =>
          step(1 + Math.floor(Math.min(value.length, want.length) / charsPerStep));
  const scan =
    step === undefined ? () => {} : (value: string) => step(1 + Math.floor(value.length / charsPerStep));
  switch (pattern.case) {
    case 'exact': {
      const want = matcher.ignoreCase ? pattern.value.toLowerCase() : pattern.value;
      return (value) => {
        read(value, want);
        return fold(value) === want;
      };
    }
    case 'prefix': {
      const want = matcher.ignoreCase ? pattern.value.toLowerCase() : pattern.value;
      return (value) => {
        read(value, want);
        return fold(value).startsWith(want);
      };
    }
    case 'suffix': {
      const want = matcher.ignoreCase ? pattern.value.toLowerCase() : pattern.value;
      return (value) => {
        read(value, want);
        return fold(value).endsWith(want);
      };
    }
    case 'contains': {
      const want = matcher.ignoreCase ? pattern.value.toLowerCase() : pattern.value;
      return (value) => {
        scan(value);
        return fold(value).includes(want);
      };
    }
    case 'safeRegex':
      return compileRe2(
        pattern.value.regex,
        `${what}.safe_regex`,
        maxRegexBytes,
        maxRegexProgramSize,
        request,
      );
    default:
      return () => true;
  }
}

/**
 * True when a string matches an Envoy StringMatcher; a regex RE2 rejects matches nothing. Compiles the matcher on
 * every call: to match many strings, compile once with {@link compileStringMatcher}.
 */
export function matchesString(matcher: StringMatcher | undefined, value: string): boolean {
  try {
    return compileStringMatcher(matcher)(value);
  } catch {
    return false;
  }
}
