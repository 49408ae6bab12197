/**
 * The ClientStatusDiscoveryService (CSDS) on the gRPC server: `FetchClientStatus` and `StreamClientStatus`.
 * CSDS shows every matching node's config, so reading it is an operator's right, not a proxy's (rule L6): each
 * request goes through `authorizeStatus`, and a server that authorizes its xDS clients (`authorize`) but says
 * nothing about CSDS refuses it. Errors end the call with a status and never escape a handler (rule L4); a stream
 * answers one request at a time and reads the next only once the answer is flushed (backpressure). Answers are
 * built in slices, at most `limits.maxConcurrentStatusCalls` at once server-wide and `limits.maxStatusCallsPerCaller`
 * in flight per caller (csds-gate.ts, rule L2), and sent as they were encoded while built (csds.ts), within the
 * server's write budget: a call keeps its caller's share until its answer is flushed or the call ends, and an
 * answer not flushed within `limits.drainTimeoutMs` has its call reset (answer-write.ts, rule S12; probe Q5).
 */
import {
  type Server,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type ServiceDefinition,
  type sendUnaryData,
  status,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import {
  ClientStatusDiscoveryService,
  type ClientStatusRequest,
  ClientStatusRequestSchema,
  Code,
  methodPath,
  XdsError,
} from '@xds/api';
import { BudgetedAnswer } from './answer-write.js';
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

/** What `XdsServer.statusCalls()` reports: CSDS calls now, and since the server started. */
export interface StatusCallStats {
  /** Answers being built now (at most `limits.maxConcurrentStatusCalls`). */
  readonly building: number;
  /** The most answers built at once since the server started. */
  readonly peakBuilding: number;
  /** Calls waiting for a turn to be built (at most 100). */
  readonly waiting: number;
  /** Callers with calls in flight (each has at most `limits.maxStatusCallsPerCaller`). */
  readonly callers: number;
  /** Answers built since the server started. */
  readonly built: number;
  /** Answers sent and not flushed yet: each holds its caller's share until it is flushed or its call ends. */
  readonly unflushed: number;
}

/** One server's CSDS bookkeeping: its gate and counts. */
interface StatusCalls {
  readonly gate: StatusGate;
  building: number;
  peakBuilding: number;
  built: number;
  unflushed: number;
}

/** One per server (its context), whichever grpc-js servers its services are mounted on. */
const servers = new WeakMap<StreamContext, StatusCalls>();
function statusCallsOf(ctx: StreamContext): StatusCalls {
  let calls = servers.get(ctx);
  if (calls === undefined) {
    const gate = new StatusGate({
      max: ctx.limits.maxConcurrentStatusCalls,
      maxPerCaller: ctx.limits.maxStatusCallsPerCaller,
    });
    calls = { gate, building: 0, peakBuilding: 0, built: 0, unflushed: 0 };
    servers.set(ctx, calls);
  }
  return calls;
}

/** The CSDS calls of the server of `ctx` (see {@link StatusCallStats}). */
export function statusCallStats(ctx: StreamContext): StatusCallStats {
  const { gate, building, peakBuilding, built, unflushed } = statusCallsOf(ctx);
  const { waiting, callers } = gate.stats;
  return { building, peakBuilding, waiting, callers, built, unflushed };
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

/** Builds one answer, counted in {@link StatusCalls} (its concurrency is what the gate bounds). */
async function build(
  ctx: StreamContext,
  calls: StatusCalls,
  streams: () => Iterable<StreamHandle>,
  request: ClientStatusRequest,
  call: ServerCall,
): Promise<Uint8Array> {
  calls.building++;
  calls.peakBuilding = Math.max(calls.peakBuilding, calls.building);
  try {
    const bytes = await clientStatusBytes(streams(), request, ctx.limits, {
      abandoned: () => call.cancelled,
      limitReached: (limit) => ctx.limitReached(limit),
    });
    calls.built++;
    return bytes;
  } finally {
    calls.building--;
  }
}

/**
 * Authorizes, builds and sends one answer (`send`, after its turn in the write budget: answer-write.ts); rejects
 * with an XdsError for a refused or bad request, or CANCELLED when the call ended first. Resolves once the answer
 * was flushed (true) or its call ended (false): until then the call keeps its caller's share (probe Q5).
 */
async function answer(
  ctx: StreamContext,
  streams: () => Iterable<StreamHandle>,
  request: Request,
  call: ServerCall,
  send: (answer: BudgetedAnswer, bytes: ClientStatusResponse) => void,
): Promise<boolean> {
  if (request instanceof UndecodableRequest) {
    if (request.limit !== undefined) ctx.limitReached(request.limit);
    throw new XdsError(request.code, request.message);
  }
  const calls = statusCallsOf(ctx);
  const refused = (limit: StatusGateLimit) => ctx.limitReached(limit);
  const release = calls.gate.admit(statusCallerOf(call), refused);
  // Review R9: a call cancelled while it waits for a turn leaves the queue at once.
  const left = new AbortController();
  const onCancelled = () => left.abort();
  call.once('cancelled', onCancelled);
  try {
    await authorizeStatus(ctx, request, call);
    // The turn is held until the answer has its place in the write budget: answers wait there built, at most
    // limits.maxConcurrentStatusCalls of them.
    const [out, bytes] = await calls.gate.run(
      async () => {
        const bytes = await build(ctx, calls, streams, request, call);
        const out = new BudgetedAnswer(ctx, call, bytes.length, 'CSDS');
        await out.charged();
        return [out, bytes] as const;
      },
      refused,
      left.signal,
    );
    calls.unflushed++;
    try {
      send(out, bytes);
      return await out.done;
    } finally {
      calls.unflushed--;
    }
  } finally {
    call.off('cancelled', onCancelled);
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
  // The caller left: nobody to tell, nothing wrong.
  if (code === status.CANCELLED) return;
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
    callback: sendUnaryData<ClientStatusResponse>,
  ) => {
    const send = (out: BudgetedAnswer, bytes: ClientStatusResponse) => out.sendUnary(bytes, callback);
    answer(ctx, streams, call.request, call as ServerCall, send).catch((error: unknown) => {
      logFailure(ctx, error, call as ServerCall);
      callback(toStatus(error));
    });
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
    const send = (out: BudgetedAnswer, bytes: ClientStatusResponse) => out.writeTo(call, bytes);
    call.on('data', (request: Request) => {
      if (ended) return;
      // One request at a time: stop reading until this answer is flushed (not only taken by grpc-js, whose
      // object-mode stream takes 16 before saying wait: probe Q5).
      busy = true;
      call.pause();
      answer(ctx, streams, request, call as ServerCall, send).then(
        (flushed) => {
          // Not flushed: the call ended (cancelled, or reset past limits.drainTimeoutMs).
          if (!flushed) ended = true;
          if (ended) return;
          busy = false;
          if (clientDone) finish();
          else call.resume();
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
