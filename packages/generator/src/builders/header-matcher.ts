// Route header matchers, in the field generation the caller asks for (route-fields.ts): `string_match` for Envoy
// and current gRPC clients, or the older one-field-per-kind form that every gRPC client with xDS routing reads. Both
// mean the same; a value no client accepts (an empty prefix, suffix or regex) is a TypeError here, not a NACK later.
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { type HeaderMatcher, HeaderMatcherSchema } from '@xds/api';
import type { RouteBuildOptions } from './route-fields.js';

/** How one request header must look; set exactly one field. */
export interface HeaderMatchSpec {
  /** The value equals this. */
  readonly exact?: string;
  /** The value starts with this (not empty). */
  readonly prefix?: string;
  /** The value ends with this (not empty). */
  readonly suffix?: string;
  /** The value matches this RE2 regular expression (the whole value; not empty). */
  readonly regex?: string;
  /** `true`: the header is present; `false`: it is absent. */
  readonly present?: boolean;
}

type Specifier = NonNullable<MessageInitShape<typeof HeaderMatcherSchema>['headerMatchSpecifier']>;

/**
 * The `string_match` form: `{ exact | prefix | suffix | safe_regex }` in a StringMatcher (Envoy 1.19+, gRPC
 * clients that implement gRFC A63).
 */
function currentSpecifier(spec: HeaderMatchSpec): Specifier {
  if (spec.exact !== undefined)
    return { case: 'stringMatch', value: { matchPattern: { case: 'exact', value: spec.exact } } };
  if (spec.prefix !== undefined)
    return { case: 'stringMatch', value: { matchPattern: { case: 'prefix', value: spec.prefix } } };
  if (spec.suffix !== undefined)
    return { case: 'stringMatch', value: { matchPattern: { case: 'suffix', value: spec.suffix } } };
  return {
    case: 'stringMatch',
    value: { matchPattern: { case: 'safeRegex', value: { regex: spec.regex ?? '' } } },
  };
}

/**
 * The form every gRPC client with xDS routing reads: `exact_match`, `prefix_match`, `suffix_match`,
 * `safe_regex_match`. An empty `exact` becomes the regex `^$` (the same match): grpc-go releases before mid-2026
 * take an empty `exact_match` for "no matcher" and panic when they route.
 */
function compatibleSpecifier(spec: HeaderMatchSpec): Specifier {
  if (spec.exact !== undefined) {
    return spec.exact === ''
      ? { case: 'safeRegexMatch', value: { regex: '^$' } }
      : { case: 'exactMatch', value: spec.exact };
  }
  if (spec.prefix !== undefined) return { case: 'prefixMatch', value: spec.prefix };
  if (spec.suffix !== undefined) return { case: 'suffixMatch', value: spec.suffix };
  return { case: 'safeRegexMatch', value: { regex: spec.regex ?? '' } };
}

/**
 * A header matcher from a {@link HeaderMatchSpec}, in the generation `options.fields` names (default
 * `'current'`). Throws a TypeError unless exactly one field is set, or when a prefix, suffix or regex is empty
 * (Envoy and gRPC clients reject those).
 */
export function makeHeaderMatcher(
  name: string,
  spec: HeaderMatchSpec,
  options: RouteBuildOptions = {},
): HeaderMatcher {
  const set = Object.entries(spec).filter(([, v]) => v !== undefined);
  if (set.length !== 1)
    throw new TypeError(`header "${name}": set exactly one of exact, prefix, suffix, regex, present`);
  if (spec.present !== undefined) {
    return create(HeaderMatcherSchema, {
      name,
      headerMatchSpecifier: { case: 'presentMatch', value: true },
      invertMatch: !spec.present,
    });
  }
  const [kind, value] = set[0]!;
  if (value === '' && kind !== 'exact') {
    const instead = kind === 'regex' ? "'^$' for an empty value, or present: true" : 'present: true';
    throw new TypeError(`header "${name}": Envoy and gRPC clients reject an empty ${kind}; use ${instead}`);
  }
  const specifier = options.fields === 'compatible' ? compatibleSpecifier(spec) : currentSpecifier(spec);
  return create(HeaderMatcherSchema, { name, headerMatchSpecifier: specifier });
}
