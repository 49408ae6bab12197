/**
 * `@xds/reference-server`: the runnable `xds-server`. It serves a watched service model over xDS to Envoy and
 * proxyless gRPC clients, with a status page, debug endpoints and Prometheus metrics. The command is `bin.js`;
 * this module lets a program start the same server.
 *
 * @packageDocumentation
 */
export { formatAddress, isLoopbackHost, type ListenAddress, parseAddress } from './address.js';
export { configDump, configDumpPage } from './admin/debug-views.js';
export { escapeHtml } from './admin/html.js';
export {
  adminDefaults,
  createHttpAdmin,
  type HttpAdmin,
  type HttpAdminOptions,
  type Route,
  securityHeaders,
  send,
  sendJson,
  textType,
} from './admin/http-admin.js';
export {
  renderStatusFrame,
  type StatusPageOptions,
  type StatusView,
  statusPageContentSecurityPolicy,
} from './admin/status-page.js';
export {
  type ConfigSummary,
  type Syncz,
  type SynczCounts,
  type SynczNode,
  type SynczServer,
  type SynczSource,
  type SynczType,
  synczNodes,
  synczServer,
} from './admin/syncz.js';
export { maxAdminTokenFileBytes, minAdminTokenLength, readAdminToken } from './admin-token.js';
export { type CommandLine, type ParsedCommandLine, parseCommandLine, usage } from './cli.js';
export {
  type CommandOptions,
  crashed,
  type Drainable,
  drainDeadlineMs,
  type ParsedCommand,
  packageJsonVersion,
  runCommand,
  type StartFailure,
} from './command.js';
export type { ConfigErrorState, ConfigState } from './config-state.js';
export { csdsAccess, peerHost } from './csds-access.js';
export { exampleModelPath } from './example-model.js';
export { routeGrpcLogs } from './grpc-logs.js';
export { addHealthService, type HealthService } from './health.js';
export {
  type LimitFlags,
  type LimitName,
  limitFlagSpecs,
  limitMeanings,
  limitsUsage,
  maxLimitsFileBytes,
  maxLimitValue,
  parseLimitFlags,
  readLimitFlags,
  readLimitsFile,
  withLimitsFile,
} from './limit-flags.js';
export { createLogger, type LogLevel, logLevels } from './logger.js';
export { createMetrics, type Metrics, type MetricsSources } from './metrics.js';
export {
  defaultReloadHeapMiB,
  defaultReloadTimeoutMs,
  type ModelAppliedEvent,
  ModelFile,
  type ModelFileEvents,
  type ModelFileOptions,
  ModelLoadError,
  type ModelRejectedEvent,
  type ReloadOutcome,
} from './model-file.js';
export {
  boundAddress,
  type ProcessSecurity,
  type ProcessSecurityOptions,
  readProcessSecurity,
} from './process-security.js';
export {
  type ReferenceServer,
  type ReferenceServerOptions,
  startReferenceServer,
} from './reference-server.js';
export {
  adminExposureRefusal,
  adminTlsOptions,
  readSecurityFlags,
  type SecurityFlags,
  securityFlagProblems,
  securityFlagSpecs,
  securityFlagsUsage,
  trustDomainFlagSpec,
  trustDomainIdentity,
  trustDomainProblems,
  trustDomainUsage,
  warnPlaintextXds,
  xdsSecurityLabel,
  xdsTlsOptions,
} from './security-flags.js';
export { watchServerEvents } from './server-events.js';
export { metricTypeLabel, typeLabel } from './type-labels.js';
