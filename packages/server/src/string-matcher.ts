/**
 * Envoy `StringMatcher`s from requests (CSDS node matchers), matched with RE2 semantics in linear time (rule L3 of
 * the protocol notes). A `safe_regex` is RE2 in Envoy and in gRPC; JavaScript's own engine backtracks, so a
 * 30-byte pattern such as `(.*)*Z` could keep the event loop busy for minutes and stall every client. Here every
 * regex is compiled by `re2js` (a port of RE2: no lookaround, no backreferences, time linear in the input), after
 * a bound on its length (`limits.maxRegexBytes`).
 */
import { Code, type StringMatcher, XdsError } from '@xds/api';
import { RE2JS } from 're2js';
import { regexSizeBound } from './regex-size.js';

/** A compiled matcher: true when the whole string matches. */
export type StringPredicate = (value: string) => boolean;

/** The default bound on a regex's UTF-8 bytes when no limit is given (the same as `defaultLimits.maxRegexBytes`). */
const defaultMaxRegexBytes = 1024;
/** The default bound on a regex's program (the same as `defaultLimits.maxRegexProgramSize`). */
const defaultMaxProgramSize = 2_000;

/**
 * Compiles an RE2 regex that must match a whole string. Throws an XdsError (INVALID_ARGUMENT) naming the problem
 * for a pattern RE2 rejects (lookaround, backreferences, bad syntax), one longer than `maxBytes`, or one whose
 * program may be larger than `maxProgramSize` instructions (bounded from its text, before compiling: rule L3).
 */
export function compileRe2(
  pattern: string,
  what: string,
  maxBytes = defaultMaxRegexBytes,
  maxProgramSize = defaultMaxProgramSize,
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
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (error) {
    throw new XdsError(
      Code.InvalidArgument,
      `${what}: ${JSON.stringify(pattern)} is not an RE2 regex (${(error as Error).message})`,
      { cause: error },
    );
  }
  return (value) => re.matches(value);
}

/**
 * Compiles an Envoy StringMatcher (exact, prefix, suffix, contains, safe_regex; `ignore_case` applies to all but
 * the regex, as in Envoy). An absent matcher, or one without a pattern, matches everything. Throws an XdsError
 * (INVALID_ARGUMENT) for a regex RE2 rejects or one longer than `maxRegexBytes`.
 */
export function compileStringMatcher(
  matcher: StringMatcher | undefined,
  what = 'string matcher',
  maxRegexBytes = defaultMaxRegexBytes,
  maxRegexProgramSize = defaultMaxProgramSize,
): StringPredicate {
  if (matcher === undefined) return () => true;
  const pattern = matcher.matchPattern;
  const fold = matcher.ignoreCase ? (s: string) => s.toLowerCase() : (s: string) => s;
  switch (pattern.case) {
    case 'exact': {
      const want = fold(pattern.value);
      return (value) => fold(value) === want;
    }
    case 'prefix': {
      const want = fold(pattern.value);
      return (value) => fold(value).startsWith(want);
    }
    case 'suffix': {
      const want = fold(pattern.value);
      return (value) => fold(value).endsWith(want);
    }
    case 'contains': {
      const want = fold(pattern.value);
      return (value) => fold(value).includes(want);
    }
    case 'safeRegex':
      return compileRe2(pattern.value.regex, `${what}.safe_regex`, maxRegexBytes, maxRegexProgramSize);
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
