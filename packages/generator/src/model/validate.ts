import { checkExpansion } from './check-expansion.js';
import { checkSemantics } from './check-semantics.js';
import { checkShape, isRecord } from './check-shape.js';
import { modelJsonSchema } from './json-schema.js';
import { formatPath, type Issue, type ModelResult } from './model-error.js';
import { defaultModelLimits, type ModelLimits, resolveModelLimits } from './model-limits.js';
import { normalizeModel } from './normalize.js';
import type { ServiceModelInput } from './types.js';

/**
 * Every issue of a model value: the schema's, then the semantic checks', then (for a model with neither) what it
 * would expand to once generated, against `limits`.
 */
export function modelIssues(value: unknown, limits: ModelLimits = defaultModelLimits): Issue[] {
  const issues: Issue[] = [];
  if (value === null || value === undefined) {
    return [{ path: [], message: 'the model is empty; expected a mapping with a "services" list' }];
  }
  if (!isRecord(value)) return [{ path: [], message: 'expected a mapping with a "services" list' }];
  checkShape(value, modelJsonSchema, modelJsonSchema, [], issues);
  checkSemantics(value, issues, limits.maxSubsetsPerService);
  if (issues.length === 0) checkExpansion(value as unknown as ServiceModelInput, limits, issues);
  return issues;
}

/**
 * Validates a service model given as a value (what `JSON.parse` or a TypeScript literal gives) and fills in
 * defaults. Reports every error, each with its path (`services[0].ports[0].port`); never throws. What the model
 * expands to is bounded by `limits` (`maxSubsetsPerService`, `maxGeneratedClusters`, `maxGeneratedEndpoints`;
 * unset ones take {@link defaultModelLimits}).
 */
export function validateModel(value: unknown, limits: Partial<ModelLimits> = {}): ModelResult {
  const issues = modelIssues(value, resolveModelLimits(limits));
  if (issues.length > 0) {
    return {
      ok: false,
      errors: issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })),
    };
  }
  return { ok: true, model: normalizeModel(value as ServiceModelInput) };
}
