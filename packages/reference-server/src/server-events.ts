// Turns the xDS server's events into metrics and log lines. Metric labels are bounded: a type the server does not
// serve counts under `unknown` (rules S15, L2); the logs keep the URL a client sent.
import { ResourceTypes } from '@xds/api';
import type {
  AckEvent,
  NackEvent,
  RequestEvent,
  ResponseEvent,
  StreamCloseEvent,
  StreamOpenEvent,
  XdsServer,
} from '@xds/server';
import type { Logger } from 'pino';
import type { Metrics } from './metrics.js';
import { metricTypeLabel, typeLabel } from './type-labels.js';

/**
 * Counts the xDS server's events in the metrics (pushes, NACKs, stale nonces) and logs streams and NACKs.
 * `served` is the set of types the server serves (its cache's types, the built-in ones by default): any other type
 * a client sends is labelled `unknown`. Returns a function that stops listening.
 */
export function watchServerEvents(
  server: XdsServer,
  metrics: Metrics,
  logger: Logger,
  served: ResourceTypes = ResourceTypes.builtIn,
): () => void {
  const label = (typeUrl: string) => ({ type: metricTypeLabel(typeUrl, served) });
  const onResponse = (event: ResponseEvent) => metrics.pushes.inc(label(event.typeUrl));
  const onRequest = (event: RequestEvent) => {
    if (event.stale) metrics.expiredNonces.inc(label(event.typeUrl));
  };
  const onNack = (event: NackEvent) => {
    metrics.rejects.inc(label(event.typeUrl));
    logger.warn(
      {
        nodeId: event.nodeId,
        streamId: event.streamId,
        type: typeLabel(event.typeUrl),
        version: event.version,
        acceptedVersion: event.acceptedVersion,
        error: event.message,
      },
      'xDS client rejected a response (NACK)',
    );
  };
  const onAck = (event: AckEvent) =>
    logger.debug(
      {
        nodeId: event.nodeId,
        streamId: event.streamId,
        type: typeLabel(event.typeUrl),
        version: event.version,
      },
      'ACK',
    );
  const onOpen = (event: StreamOpenEvent) =>
    logger.info(
      { nodeId: event.nodeId, streamId: event.streamId, kind: event.kind, ads: event.ads, peer: event.peer },
      'xDS stream opened',
    );
  const onClose = (event: StreamCloseEvent) =>
    logger.info(
      { nodeId: event.nodeId, streamId: event.streamId, code: event.code, reason: event.reason },
      'xDS stream closed',
    );
  server.on('response', onResponse);
  server.on('request', onRequest);
  server.on('nack', onNack);
  server.on('ack', onAck);
  server.on('streamOpen', onOpen);
  server.on('streamClose', onClose);
  return () => {
    server.off('response', onResponse);
    server.off('request', onRequest);
    server.off('nack', onNack);
    server.off('ack', onAck);
    server.off('streamOpen', onOpen);
    server.off('streamClose', onClose);
  };
}
