/**
 * The gRPC status codes, by name. The numbers are those of the gRPC wire protocol, so a code travels unchanged to
 * `@grpc/grpc-js`'s `status` enum in the one place that maps errors to the wire.
 */
export const Code = {
  OK: 0,
  Cancelled: 1,
  Unknown: 2,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  AlreadyExists: 6,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  Aborted: 10,
  OutOfRange: 11,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  DataLoss: 15,
  Unauthenticated: 16,
} as const;

/** A gRPC status code. */
export type Code = (typeof Code)[keyof typeof Code];

const codeNames = new Map<number, string>(Object.entries(Code).map(([name, code]) => [code, name]));

/**
 * The one error class of the project: a message, a gRPC status code and an optional cause. A NACK is data, not an
 * XdsError; an XdsError is what ends a stream or rejects bad input.
 */
export class XdsError extends Error {
  /** The gRPC status code to report. */
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'XdsError';
    this.code = code;
  }

  /** The name of the code, for logs: `InvalidArgument`. */
  get codeName(): string {
    return codeNames.get(this.code) ?? `Code(${this.code})`;
  }

  /**
   * Turns anything thrown into an XdsError: an XdsError is returned as is, anything else becomes `Internal` (or
   * the code given) with the original kept as `cause`.
   */
  static from(reason: unknown, code: Code = Code.Internal): XdsError {
    if (reason instanceof XdsError) return reason;
    const message = reason instanceof Error ? reason.message : String(reason);
    return new XdsError(code, message, { cause: reason });
  }
}
