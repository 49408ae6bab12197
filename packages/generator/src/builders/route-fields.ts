// Two generations of RouteConfiguration fields that xDS clients read differently (see the "Client compatibility"
// section of the package README for the sources and versions). Envoy deprecated the header matcher's
// `exact_match`/`prefix_match`/`suffix_match`/`safe_regex_match` for `string_match`, and `WeightedCluster.total_weight`
// for "the sum of the weights"; gRPC clients from before mid-2023 (gRFC A63) do not know `string_match` and NACK the
// whole RouteConfiguration, and some read an unset `total_weight` as 100. The builders write either generation.

/**
 * Which generation of route fields to write:
 * - `'current'`: header matchers in `string_match`, `total_weight` unset. What Envoy 1.24+ expects (no
 *   deprecation warnings); gRPC clients older than gRFC A63 (for example C-core 1.51) NACK it.
 * - `'compatible'`: header matchers in the fields every gRPC release with xDS routing reads (`exact_match`,
 *   `prefix_match`, `suffix_match`, `safe_regex_match`, `present_match`), and `total_weight` set to the sum of the
 *   weights. Accepted by every gRPC client and by Envoy, which logs each deprecated field it reads.
 */
export type RouteFields = 'current' | 'compatible';

/** Options of the route builders (`makeRouteConfiguration`, `makeVirtualHost`, `makeRoute`, `makeHeaderMatcher`). */
export interface RouteBuildOptions {
  /** Which generation of fields to write; default `'current'`. */
  readonly fields?: RouteFields;
}

/** The largest value of a protobuf `uint32`: the most that the weights of one route may add up to. */
export const maxTotalWeight = 0xffff_ffff;
