/**
 * Envoy `StructMatcher`s and `ValueMatcher`s against a node's metadata: the `node_metadatas` of a CSDS node matcher
 * (`envoy.type.matcher.v3`). A path of keys leads into the metadata; the value found there (or its absence) is
 * matched by kind: null, a number (exact or in `[start, end)`), a string (a StringMatcher, its regex in RE2: rule
 * L3), a bool, presence of a primitive value, a list holding a match, or any of several matchers; a Struct value
 * matches nothing. The request was held to `limits.maxStatusMatcherBytes` before it was decoded (rule L2); here the
 * nesting of list and or matchers is bounded by `limits.maxNodeMetadataDepth` and the regexes of one request by
 * `limits.maxStatusMatchers`, each checked before anything is compiled past it.
 */
import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import { Code, XdsError } from '@xds/api';
import type { StructMatcher } from '@xds/api/gen/envoy/type/matcher/v3/struct_pb';
import type { ValueMatcher } from '@xds/api/gen/envoy/type/matcher/v3/value_pb';
import type { ResolvedLimits } from './limits.js';
import { compileStringMatcher } from './string-matcher.js';

/** A compiled matcher of a metadata value; `undefined` is a value that is not there. */
type ValuePredicate = (value: JsonValue | undefined) => boolean;

/** A compiled StructMatcher: true when the node's metadata matches. */
export type MetadataPredicate = (metadata: JsonObject | undefined) => boolean;

/** The limits that bound the matchers of one request (rules L2, L3). */
export type MatcherLimits = Pick<
  ResolvedLimits,
  'maxRegexBytes' | 'maxRegexProgramSize' | 'maxStatusMatchers' | 'maxNodeMetadataDepth'
>;

/** What compiling one request's matchers has spent: regexes compiled so far (rule L3). */
export interface MatcherBudget {
  regexes: number;
}

/** Counts one regex against `limits.maxStatusMatchers` before it is compiled. */
export function spendRegex(budget: MatcherBudget, limits: MatcherLimits, what: string): void {
  budget.regexes++;
  if (budget.regexes > limits.maxStatusMatchers)
    throw new XdsError(
      Code.InvalidArgument,
      `${what}: the request holds more than limits.maxStatusMatchers (${limits.maxStatusMatchers}) regexes`,
    );
}

const isPrimitive = (value: JsonValue): boolean => value === null || typeof value !== 'object';

function compileValueMatcher(
  matcher: ValueMatcher | undefined,
  what: string,
  limits: MatcherLimits,
  budget: MatcherBudget,
  depth: number,
): ValuePredicate {
  if (depth > limits.maxNodeMetadataDepth)
    throw new XdsError(
      Code.InvalidArgument,
      `${what}: list_match and or_match nest more than limits.maxNodeMetadataDepth (${limits.maxNodeMetadataDepth}) levels`,
    );
  const pattern = matcher?.matchPattern;
  switch (pattern?.case) {
    case 'nullMatch':
      return (value) => value === null;
    case 'doubleMatch': {
      const double = pattern.value.matchPattern;
      if (double.case === 'exact') return (value) => value === double.value;
      if (double.case === 'range') {
        const { start, end } = double.value;
        return (value) => typeof value === 'number' && value >= start && value < end;
      }
      return () => false;
    }
    case 'stringMatch': {
      if (pattern.value.matchPattern.case === 'safeRegex') spendRegex(budget, limits, what);
      const matches = compileStringMatcher(
        pattern.value,
        `${what}.string_match`,
        limits.maxRegexBytes,
        limits.maxRegexProgramSize,
      );
      return (value) => typeof value === 'string' && matches(value);
    }
    case 'boolMatch':
      return (value) => value === pattern.value;
    case 'presentMatch': {
      const want = pattern.value;
      // A Struct or a list is not a primitive value: present_match never matches it, either way.
      return (value) => (value === undefined ? !want : isPrimitive(value) && want);
    }
    case 'listMatch': {
      const list = pattern.value.matchPattern;
      if (list.case !== 'oneOf') return () => false;
      const item = compileValueMatcher(list.value, `${what}.list_match.one_of`, limits, budget, depth + 1);
      return (value) => Array.isArray(value) && value.some(item);
    }
    case 'orMatch': {
      const any = pattern.value.valueMatchers.map((m, i) =>
        compileValueMatcher(m, `${what}.or_match.value_matchers[${i}]`, limits, budget, depth + 1),
      );
      return (value) => any.some((matches) => matches(value));
    }
    default:
      // A ValueMatcher must name a kind (Envoy refuses one that does not): it matches nothing.
      return () => false;
  }
}

/**
 * Compiles a StructMatcher. Throws an XdsError (INVALID_ARGUMENT) naming `what` and the limit for a regex that RE2
 * rejects or that is past `limits.maxRegexBytes` or `maxRegexProgramSize`, for more regexes in the request than
 * `limits.maxStatusMatchers` (counted in `budget`), or for matchers nested deeper than `maxNodeMetadataDepth`.
 */
export function compileStructMatcher(
  matcher: StructMatcher,
  what: string,
  limits: MatcherLimits,
  budget: MatcherBudget,
): MetadataPredicate {
  const path = matcher.path.map((segment) =>
    segment.segment.case === 'key' ? segment.segment.value : undefined,
  );
  const matches = compileValueMatcher(matcher.value, `${what}.value`, limits, budget, 1);
  return (metadata) => {
    let value: JsonValue | undefined = metadata;
    for (const key of path) {
      // A path segment without a key finds nothing.
      if (key === undefined) return false;
      // A path through a value that is not a Struct finds nothing: the value is absent.
      if (value === null || value === undefined || typeof value !== 'object' || Array.isArray(value)) {
        value = undefined;
        break;
      }
      value = Object.hasOwn(value, key) ? value[key] : undefined;
    }
    return matches(value);
  };
}
