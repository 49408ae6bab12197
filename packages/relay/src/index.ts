/**
 * `@xds/relay`: the `xds-relay` fan-in tier. Downstream an `XdsServer` over a cache filled from upstream, upstream one
 * `@xds/client` stream per group of nodes; versions and bytes pass through (rules X1–X4).
 *
 * @packageDocumentation
 */
export { ConnectionSlots, connectionSlotOption, defaultGroupsPerConnection } from './connection-slots.js';
export {
  checkPositive,
  defaultMaxGroups,
  defaultMaxNewGroupsPerSecond,
  type GroupCounts,
  type GroupLimitName,
  NewGroupRate,
} from './group-admission.js';
export { type GroupBy, parseGroupBy } from './group-by.js';
export { checkGroupKey, defaultMaxGroupKeyBytes } from './group-key.js';
export { GroupUpstream, type UpstreamOptions } from './group-upstream.js';
export { OriginProbe, type OriginProbeOptions, type ProbeResult } from './origin-probe.js';
export { type Readiness, type ReadinessOptions, UpstreamReadiness } from './readiness.js';
export { Relay } from './relay.js';
export {
  defaultMaxNamesAllGroups,
  defaultMaxResourceBytesAllGroups,
  type HeldResources,
  NameBudget,
  type RelayBoundName,
  type RelayBounds,
  ResourceBytesBudget,
} from './relay-budget.js';
export { RelayCache } from './relay-cache.js';
export {
  defaultMaxNamesPerGroup,
  type Interest,
  type InterestChange,
  type RelayCacheHooks,
  type RelayCacheLimits,
} from './relay-cache-types.js';
export type { GroupStatus, RelayEvents, RelayOptions } from './relay-options.js';
export { relayGroupByKey, relayGroupKey, relayUserAgentName, upstreamNode } from './upstream-node.js';
