/**
 * Envoy `StructMatcher`s and `ValueMatcher`s against a node's metadata: the `node_metadatas` of a CSDS node matcher
 * (`envoy.type.matcher.v3`). A path of keys leads into the metadata; the value found there (or its absence) is
 * matched by kind: null, a number (exact or in `[start, end)`), a string (a StringMatcher, its regex in RE2: rule
 * L3), a bool, presence of a primitive value, a list holding a match, or any of several matchers; a Struct value
 * matches nothing. The request was held to `limits.maxStatusMatcherBytes` before it was decoded (rule L2); here the
 * nesting of list and or matchers is bounded by `limits.maxNodeMetadataDepth`, the regexes of one request by
 * `limits.maxStatusMatchers` and `maxStatusRegexProgramTotal`, its ValueMatchers and StringMatchers by
 * `maxStatusMatcherNodes`, each checked before anything is compiled past it, and the work of matching by
 * `maxStatusMatchSteps`: each matcher run and each path key walked is a step (matcher-budget.ts), so a list of
 * 10,000 values costs its matcher 10,000 steps.
 */
import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import { Code, XdsError } from '@xds/api';
import type { StructMatcher } from '@xds/api/gen/envoy/type/matcher/v3/struct_pb';
import type { ValueMatcher } from '@xds/api/gen/envoy/type/matcher/v3/value_pb';
import {
  type MatcherBudget,
  type MatcherLimits,
  type RequestMatchers,
  type Stepper,
  spendNode,
  spendRegex,
  stepper,
  takePending,
} from './matcher-budget.js';
import { compileStringMatcher } from './string-matcher.js';

export { type MatcherBudget, type MatcherLimits, spendRegex } from './matcher-budget.js';

/** A compiled matcher of a metadata value; `undefined` is a value that is not there. */
type ValuePredicate = (value: JsonValue | undefined) => boolean;

/** A compiled StructMatcher: true when the node's metadata matches. */
export type MetadataPredicate = (metadata: JsonObject | undefined) => boolean;

/** Counts a metadata regex against `limits.maxStatusMatchers` (it is compiled with its budget given). */
function countRegex(request: RequestMatchers, what: string): void {
  spendRegex(request.budget, request.limits, what);
  // spendRegex leaves its budget for a node id compiled without one; this regex's compiler is given it.
  takePending(what);
}

const isPrimitive = (value: JsonValue): boolean => value === null || typeof value !== 'object';

function compileValueMatcher(
  matcher: ValueMatcher | undefined,
  what: string,
  request: RequestMatchers,
  step: Stepper,
  depth: number,
): ValuePredicate {
  const { limits } = request;
  if (depth > limits.maxNodeMetadataDepth)
    throw new XdsError(
      Code.InvalidArgument,
      `${what}: list_match and or_match nest more than limits.maxNodeMetadataDepth (${limits.maxNodeMetadataDepth}) levels`,
    );
  spendNode(request, what);
  const matches = compileKind(matcher, what, request, step, depth);
  // Every run of a compiled ValueMatcher is a step: a list_match's runs its item matcher once per element.
  return (value) => {
    step(1);
    return matches(value);
  };
}

/** The predicate of one ValueMatcher's kind (its steps counted by the caller). */
function compileKind(
  matcher: ValueMatcher | undefined,
  what: string,
  request: RequestMatchers,
  step: Stepper,
  depth: number,
): ValuePredicate {
  const { limits } = request;
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
      if (pattern.value.matchPattern.case === 'safeRegex') countRegex(request, what);
      const matches = compileStringMatcher(
        pattern.value,
        `${what}.string_match`,
        limits.maxRegexBytes,
        limits.maxRegexProgramSize,
        request,
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
      const item = compileValueMatcher(list.value, `${what}.list_match.one_of`, request, step, depth + 1);
      return (value) => Array.isArray(value) && value.some(item);
    }
    case 'orMatch': {
      const any = pattern.value.valueMatchers.map((m, i) =>
        compileValueMatcher(m, `${what}.or_match.value_matchers[${i}]`, request, step, depth + 1),
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
 * `limits.maxStatusMatchers`, regex programs past `maxStatusRegexProgramTotal` or value and string matchers past
 * `maxStatusMatcherNodes` (all counted in `budget`, across the request), or for matchers nested deeper than
 * `maxNodeMetadataDepth`. The predicate throws RESOURCE_EXHAUSTED once the request's matching has taken more than
 * `limits.maxStatusMatchSteps` steps.
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
  const request: RequestMatchers = { budget, limits };
  const step = stepper(request);
  const matches = compileValueMatcher(matcher.value, `${what}.value`, request, step, 1);
  return (metadata) => {
    let value: JsonValue | undefined = metadata;
    for (const key of path) {
      step(1);
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
