/**
 * The ClientStatusDiscoveryService (CSDS) on the gRPC server: `FetchClientStatus` and `StreamClientStatus`.
 * CSDS shows every matching node's config, so reading it is an operator's right, not a proxy's (rule L6): each
 * request goes through `authorizeStatus`, and a server that authorizes its xDS clients (`authorize`) but says
 * nothing about CSDS refuses it. Errors end the call with a status and never escape a handler (rule L4); a stream
 * answers one request at a time and reads the next only once the answer is flushed (backpressure). Answers are
 * built in slices, at most `limits.maxConcurrentStatusCalls` at once server-wide and `limits.maxStatusCallsPerCaller`
 * in flight per caller (csds-gate.ts, rule L2), and sent as they were encoded while built (csds.ts).
 */
import type {
  Server,
  ServerDuplexStream,
  ServerUnaryCall,
  ServiceDefinition,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';
import {
  ClientStatusDiscoveryService,
  type ClientStatusRequest,
  ClientStatusRequestSchema,
  Code,
  methodPath,
  XdsError,
} from '@xds/api';
import { authorizationFailure } from './authorization.js';
import { messageEncoder, requestDecoder, UndecodableRequest } from './codec.js';
import { refusalLogIntervalMs } from './connection-gate.js';
import { clientStatusBytes } from './csds.js';
import { StatusGate, type StatusGateLimit, StatusGateRefusal, statusCallerOf } from './csds-gate.js';
import { toStatus } from './status.js';
import type { ServerCall, StreamContext, StreamHandle } from './stream-context.js';

type Request = ClientStatusRequest | UndecodableRequest;
/** An encoded ClientStatusResponse. */
type ClientStatusResponse = Uint8Array;

/** One gate per server (its context), whichever grpc-js servers its services are mounted on. */
const gates = new WeakMap<StreamContext, StatusGate>();
function gateOf(ctx: StreamContext): StatusGate {
  let gate = gates.get(ctx);
  if (gate === undefined) {
    gate = new StatusGate({
      max: ctx.limits.maxConcurrentStatusCalls,
      maxPerCaller: ctx.limits.maxStatusCallsPerCaller,
    });
    gates.set(ctx, gate);
  }
  return gate;
}

/** Refuses the call unless `authorizeStatus` grants it (or the server has no authorization at all). */
async function authorizeStatus(ctx: StreamContext, request: ClientStatusRequest, call: ServerCall) {
  const hook = ctx.authorizeStatus;
  if (hook === undefined) {
    if (ctx.authorize === undefined) return;
    throw new XdsError(
      Code.PermissionDenied,
      'client status (CSDS) is refused: this server authorizes its clients (authorize or nodeIdentity) and no ' +
        'XdsServerOptions.authorizeStatus grants CSDS',
    );
  }
  let granted: boolean;
  try {
    granted = await hook(request, call);
  } catch (error) {
    // Rule L6: a hook that fails grants nothing (fail closed); its own XdsError keeps its code.
    throw authorizationFailure(ctx.logger, error, 'authorizeStatus', 'client status (CSDS) refused', {
      peer: call.getPeer(),
    });
  }
  if (granted !== true)
    throw new XdsError(Code.PermissionDenied, 'client status (CSDS) refused by authorizeStatus');
}

/** Authorizes and answers one request; rejects with an XdsError for a refused or bad request. */
async function answer(
  ctx: StreamContext,
  streams: () => Iterable<StreamHandle>,
  request: Request,
  call: ServerCall,
): Promise<ClientStatusResponse> {
  if (request instanceof UndecodableRequest) {
    if (request.limit !== undefined) ctx.limitReached(request.limit);
    throw new XdsError(request.code, request.message);
  }
  const gate = gateOf(ctx);
  const refused = (limit: StatusGateLimit) => ctx.limitReached(limit);
  const release = gate.admit(statusCallerOf(call), refused);
  try {
    await authorizeStatus(ctx, request, call);
    return await gate.run(
      () =>
        clientStatusBytes(streams(), request, ctx.limits, {
          abandoned: () => call.cancelled,
          limitReached: (limit) => ctx.limitReached(limit),
        }),
      refused,
    );
  } finally {
    release();
  }
}

/** When each gate limit was last logged, and the refusals since (per server context). */
const gateLogs = new WeakMap<StreamContext, Map<StatusGateLimit, { at: number; since: number }>>();

/**
 * Logs a failed request: a refusal or bad input at warn, anything else (a bug) at error. The gate's refusals are
 * logged at most once per limit per `refusalLogIntervalMs`, with the count since the last line: a caller looping
 * refused calls must not flood the log.
 */
function logFailure(ctx: StreamContext, error: unknown, call: ServerCall): void {
  const { code, details } = toStatus(error);
  if (error instanceof StatusGateRefusal) {
    let logs = gateLogs.get(ctx);
    if (logs === undefined) {
      logs = new Map();
      gateLogs.set(ctx, logs);
    }
    const now = Date.now();
    const last = logs.get(error.limit);
    if (last !== undefined && now - last.at < refusalLogIntervalMs) {
      last.since++;
      return;
    }
    logs.set(error.limit, { at: now, since: 0 });
    const refusedSincePreviousLine = (last?.since ?? 0) + 1;
    ctx.logger.warn(
      { peer: call.getPeer(), code, details, refusedSincePreviousLine },
      'CSDS request refused',
    );
  } else if (error instanceof XdsError)
    ctx.logger.warn({ peer: call.getPeer(), code, details }, 'CSDS request refused');
  else ctx.logger.error({ peer: call.getPeer(), err: error }, 'CSDS request failed');
}

function fetchHandler(ctx: StreamContext, streams: () => Iterable<StreamHandle>) {
  return (
    call: ServerUnaryCall<Request, ClientStatusResponse>,
    callback: (error: unknown, value?: ClientStatusResponse) => void,
  ) => {
    answer(ctx, streams, call.request, call as ServerCall).then(
      (response) => callback(null, response),
      (error: unknown) => {
        logFailure(ctx, error, call as ServerCall);
        callback(toStatus(error));
      },
    );
  };
}

function streamHandler(ctx: StreamContext, streams: () => Iterable<StreamHandle>) {
  return (call: ServerDuplexStream<Request, ClientStatusResponse>) => {
    let busy = false;
    let clientDone = false;
    let ended = false;
    const finish = (error?: unknown) => {
      if (ended) return;
      ended = true;
      if (error === undefined) call.end();
      else call.emit('error', toStatus(error));
    };
    call.on('data', (request: Request) => {
      if (ended) return;
      // One request at a time: stop reading until this answer is flushed.
      busy = true;
      call.pause();
      answer(ctx, streams, request, call as ServerCall).then(
        (response) => {
          if (ended) return;
          const resume = () => {
            busy = false;
            if (clientDone) finish();
            else call.resume();
          };
          if (call.write(response)) resume();
          else call.once('drain', resume);
        },
        (error: unknown) => {
          logFailure(ctx, error, call as ServerCall);
          finish(error);
        },
      );
    });
    call.on('end', () => {
      clientDone = true;
      if (!busy) finish();
    });
    call.on('cancelled', () => {
      ended = true;
    });
    call.on('error', () => {
      ended = true;
    });
  };
}

/** Adds CSDS (`FetchClientStatus`, `StreamClientStatus`) to a grpc-js server. */
export function registerCsds(
  server: Server,
  ctx: StreamContext,
  streams: () => Iterable<StreamHandle>,
): void {
  const definition: Record<string, unknown> = {};
  const implementation: UntypedServiceImplementation = {};
  // The answer is encoded while it is built (csds.ts): it goes out as it is.
  const encode = (bytes: Uint8Array) => (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes));
  for (const method of ClientStatusDiscoveryService.methods) {
    const streaming = method.methodKind === 'bidi_streaming';
    definition[method.localName] = {
      path: methodPath(method),
      requestStream: streaming,
      responseStream: streaming,
      requestSerialize: messageEncoder(ClientStatusRequestSchema),
      // The wire pass (rule L2): matchers counted and sized, and the node bounded, before anything is decoded.
      requestDeserialize: requestDecoder(ClientStatusRequestSchema, ctx.limits),
      responseSerialize: encode,
      responseDeserialize: (bytes: Buffer) => bytes,
      originalName: method.localName,
    };
    implementation[method.localName] = (
      streaming ? streamHandler(ctx, streams) : fetchHandler(ctx, streams)
    ) as never;
  }
  server.addService(definition as ServiceDefinition, implementation);
}
