/**
 * `@xds/generator/model`: reading and checking a service model, without the resource generator. Small to load, for
 * a worker thread that parses a changed model file off the main thread.
 *
 * @packageDocumentation
 */
export { modelLimitIssues } from './check-model-limits.js';
export {
  formatModelError,
  formatPath,
  type Issue,
  type IssueTarget,
  type ModelError,
  type ModelResult,
  type PathSegment,
} from './model-error.js';
export {
  defaultModelLimits,
  type ModelLimits,
  maxModelDepthCeiling,
  resolveModelLimits,
} from './model-limits.js';
export { type ParseModelOptions, parseModel } from './parse.js';
export type { ServiceModel } from './types.js';
export { validateModel } from './validate.js';
