/**
 * `@xds/generator`: xDS resources from a service model, for Envoy sidecars and proxyless gRPC clients; resource
 * builders for hand-made snapshots; and a debouncer that merges bursts of changes into few pushes.
 *
 * @packageDocumentation
 */
export * from './builders/index.js';
export { type ClusterParts, inSubset, localitiesOf, targetPort } from './generate/assignments.js';
export { generateEnvoy } from './generate/envoy.js';
export { type Flavour, flavourOf, flavours, nodeKeyByFlavour } from './generate/flavour.js';
export { defaultRouteFields, type GenerateOptions } from './generate/generate-options.js';
export { generateGrpc } from './generate/grpc.js';
export {
  defaultMemo,
  type MemoOwner,
  ResourceMemo,
  type ResourceMemoOptions,
  type ResourceMemoStats,
} from './generate/memo.js';
export {
  clusterName,
  envoyDomains,
  envoyListenerName,
  envoyRouteName,
  grpcDomains,
  hostPort,
  serviceHost,
  shortNames,
} from './generate/names.js';
export {
  type BuildSnapshotOptions,
  buildSnapshot,
  generate,
  generateAsync,
} from './generate/snapshot.js';
export { defaultSliceMs, type SliceOptions } from './generate/steps.js';
export { modelLimitIssues, modelLimitIssuesAsync } from './model/check-model-limits.js';
export { parseDuration } from './model/duration.js';
export { type JsonSchema, modelJsonSchema } from './model/json-schema.js';
export {
  formatModelError,
  formatPath,
  type Issue,
  type IssueTarget,
  type ModelError,
  type ModelResult,
  type PathSegment,
} from './model/model-error.js';
export {
  defaultModelLimits,
  type ModelLimits,
  maxModelDepthCeiling,
  resolveModelLimits,
} from './model/model-limits.js';
export { type ParseModelOptions, parseModel } from './model/parse.js';
export {
  inferProtocol,
  isHttp2Protocol,
  isHttpProtocol,
  isTcpProtocol,
  type Protocol,
  protocols,
} from './model/protocol.js';
export type {
  HeaderMatch,
  Locality,
  RouteDestination,
  RouteRetries,
  RouteRule,
  RouteRuleInput,
  RouteRuleMatch,
  Service,
  ServiceEndpoint,
  ServiceEndpointInput,
  ServiceInput,
  ServiceModel,
  ServiceModelInput,
  ServicePort,
  ServicePortInput,
  Subset,
} from './model/types.js';
export { validateModel } from './model/validate.js';
export {
  createPushDebouncer,
  type PushBatch,
  type PushDebouncer,
  type PushDebouncerOptions,
  type PushReason,
} from './push/debounce.js';
export {
  nextSnapshot,
  type PublishedSnapshot,
  type PublishModelOptions,
  publishModel,
} from './push/publish.js';
export { type PublishModelAsyncOptions, publishModelAsync } from './push/publish-async.js';
