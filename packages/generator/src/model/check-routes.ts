// The checks of a service's routes that the schema cannot express: matches, subsets, weights and durations. Each
// refuses, with a path and a place in the file, what Envoy or a gRPC client would otherwise NACK for the whole
// route configuration (an empty header prefix, a regex RE2 rejects, weights that add up to 0 or past uint32), or
// read differently from the others (one destination listed twice).
import { maxTotalWeight } from '../builders/route-fields.js';
import { re2Problem } from './check-regex.js';
import { isRecord } from './check-shape.js';
import { didYouMean } from './closest.js';
import { parseDuration } from './duration.js';
import type { Issue, PathSegment } from './model-error.js';
import { formatCount } from './model-limits.js';

/** What route checks need to know about their service. */
export interface RouteContext {
  /** `name.namespace`, for messages. */
  readonly service: string;
  /** The names of the service's subsets. */
  readonly subsets: readonly string[];
  /** True when the service has an HTTP, HTTP2 or GRPC port. */
  readonly hasHttpPort: boolean;
}

function checkDuration(value: unknown, path: PathSegment[], issues: Issue[]): void {
  if (typeof value !== 'string') return;
  if (parseDuration(value) === undefined) {
    issues.push({
      path,
      message: `${JSON.stringify(value)} is not a duration; write e.g. 2s, 150ms or 1m30s`,
    });
  }
}

function checkPath(value: unknown, path: PathSegment[], issues: Issue[]): void {
  if (typeof value === 'string' && !value.startsWith('/')) {
    issues.push({ path, message: `${JSON.stringify(value)} must start with "/"` });
  }
}

function checkMatch(match: Record<string, unknown>, path: PathSegment[], issues: Issue[]): void {
  if (match.prefix !== undefined && match.path !== undefined) {
    issues.push({ path, message: 'set one of prefix and path, not both' });
  }
  checkPath(match.prefix, [...path, 'prefix'], issues);
  checkPath(match.path, [...path, 'path'], issues);
  if (!isRecord(match.headers)) return;
  for (const [name, header] of Object.entries(match.headers)) {
    if (name === '' || /[\s:]/.test(name.slice(name.startsWith(':') ? 1 : 0))) {
      issues.push({
        path: [...path, 'headers', name],
        message: `${JSON.stringify(name)} is not a header name`,
        target: 'key',
      });
    }
    if (!isRecord(header)) continue;
    for (const kind of ['prefix', 'suffix', 'regex'] as const) {
      // Envoy's validation and every gRPC client refuse these empty (a NACK of the whole route configuration).
      if (header[kind] === '') {
        const instead = kind === 'regex' ? "'^$' to match an empty value, or present: true" : 'present: true';
        issues.push({
          path: [...path, 'headers', name, kind],
          message: `an empty ${kind} is rejected by Envoy and gRPC clients; write ${instead}`,
        });
      }
    }
    if (typeof header.regex === 'string' && header.regex !== '') {
      // RE2, as the clients compile it (rule L3): JavaScript's engine accepts regexes every client rejects.
      const problem = re2Problem(header.regex);
      if (problem !== undefined) issues.push({ path: [...path, 'headers', name, 'regex'], message: problem });
    }
  }
}

function checkDestinations(to: unknown[], path: PathSegment[], context: RouteContext, issues: Issue[]): void {
  let sum = 0;
  let weighed = true;
  const seen = new Map<string, number>();
  for (const [d, destination] of to.entries()) {
    if (!isRecord(destination)) {
      weighed = false;
      continue;
    }
    const weight = destination.weight ?? 1;
    if (typeof weight === 'number' && Number.isInteger(weight) && weight >= 0) sum += weight;
    else weighed = false;
    const subset = destination.subset;
    if (typeof subset === 'string' && !context.subsets.includes(subset)) {
      const known =
        context.subsets.length === 0 ? 'it has no subsets' : `subsets: ${context.subsets.join(', ')}`;
      issues.push({
        path: [...path, d, 'subset'],
        message: `no subset named "${subset}" in ${context.service} (${known})${didYouMean(subset, context.subsets)}`,
      });
    }
    // One cluster twice in weighted_clusters: Envoy counts every entry, grpc-go (a map by name) only the last.
    const key =
      typeof subset === 'string' ? `subset "${subset}"` : subset === undefined ? 'the whole service' : '';
    const first = seen.get(key);
    if (key !== '' && first !== undefined) {
      issues.push({
        path: [...path, d],
        message: `${key} is already a destination of this route (to[${first}]); give it one entry with the weights added up`,
      });
    } else if (key !== '') seen.set(key, d);
  }
  if (!weighed || to.length === 0) return;
  if (sum <= 0) {
    issues.push({
      path,
      message: 'the weights add up to 0; at least one destination needs a weight above 0',
    });
  } else if (sum > maxTotalWeight) {
    // The sum is a uint32 in every client (and total_weight, which the gRPC output sets, is one).
    issues.push({
      path,
      message: `the weights add up to ${formatCount(sum)}, more than ${formatCount(maxTotalWeight)} (uint32), which every client rejects`,
    });
  }
}

/** Checks a service's routes beyond their shape: matches, subsets, weights, durations. */
export function checkRoutes(
  routes: unknown,
  path: PathSegment[],
  context: RouteContext,
  issues: Issue[],
): void {
  if (!Array.isArray(routes) || routes.length === 0) return;
  if (!context.hasHttpPort) {
    issues.push({
      path,
      message: `routes apply to HTTP, HTTP2 and GRPC ports, and ${context.service} has none`,
    });
  }
  for (const [r, route] of routes.entries()) {
    if (!isRecord(route)) continue;
    const at = [...path, r];
    if (isRecord(route.match)) checkMatch(route.match, [...at, 'match'], issues);
    if (Array.isArray(route.to)) checkDestinations(route.to, [...at, 'to'], context, issues);
    checkDuration(route.timeout, [...at, 'timeout'], issues);
    if (isRecord(route.retries))
      checkDuration(route.retries.perTryTimeout, [...at, 'retries', 'perTryTimeout'], issues);
  }
}
