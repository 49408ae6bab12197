/**
 * `@xds/testing`: an xDS client for tests. {@link XdsTestClient} subscribes over SotW or delta, on ADS or one
 * stream per type, ACKs and NACKs as Envoy does, records every request and response, and awaits responses with a
 * deadline.
 *
 * @packageDocumentation
 */
export { describeEnd, type StreamEnd } from './call.js';
export { XdsTestClient } from './client.js';
export { nackCode, type Protocol } from './codec.js';
export { type CountWritesOptions, countWrites } from './count-writes.js';
export type { SentRequest } from './discovery-stream.js';
export {
  type Collect,
  collectEvents,
  defaultWaitMs,
  type EmitterEvents,
  type EventMap,
  type EventsOf,
  type NextEvent,
  type PayloadOf,
  until,
  waitForEvent,
} from './events.js';
export { httpsGet } from './https-get.js';
export { assertNodeWarning, type StartLogLine, startLog } from './node-warning.js';
export type {
  DeltaDiscoveryRequestInit,
  DiscoveryRequestInit,
  NodeInit,
  SendOptions,
  XdsTestClientOptions,
} from './options.js';
export {
  adsPath,
  assertPartialRequestBudget,
  holdPartialMessage,
  openGrpcStream,
} from './partial-message.js';
export type {
  DeltaReceivedResponse,
  DeltaResource,
  ReceivedResponse,
  ReceivedResponseBase,
  SotwReceivedResponse,
} from './received.js';
export type { ResponsePredicate, WaitOptions, WaitState } from './response-log.js';
export {
  type AdminTokenProbe,
  type CertificateFiles,
  createSecureProcessSetup,
  type HttpsAnswer,
  probeAdminToken,
  type SecureProcessSetup,
  type SecureProcessSetupOptions,
} from './secure-process.js';
export { createTestPki, type LeafOptions, type TestCertificate, type TestPki } from './test-pki.js';
export { tlsCredentials } from './tls-credentials.js';
