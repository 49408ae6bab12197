// What a failing authorization hook means, in one place for every service on the port (rule L6): discovery
// streams (SotW and delta), Fetch, REST and CSDS agree. A hook that throws (or rejects with) an XdsError chose its
// status and keeps it (nodeIdentity's PERMISSION_DENIED naming the certificate, or UNAVAILABLE while the hook's own
// backend is down, so that clients retry); any other error grants nothing (fail closed): PERMISSION_DENIED, and the
// error is logged with its cause, never sent to the client.
import { Code, XdsError } from '@xds/api';
import type { Logger } from './logger.js';

/**
 * The error a call ends with when its authorization hook (`hook`, for the log and the message) threw `error`:
 * an XdsError as it is, anything else PERMISSION_DENIED saying `refused`, logged at error level with `context`.
 */
export function authorizationFailure(
  logger: Logger,
  error: unknown,
  hook: 'authorize' | 'authorizeStatus',
  refused: string,
  context: Record<string, unknown>,
): XdsError {
  if (error instanceof XdsError) return error;
  logger.error({ ...context, err: error }, `${hook} failed`);
  return new XdsError(Code.PermissionDenied, `${refused}: ${hook} failed`, { cause: error });
}

/**
 * `hook` bounded in time (rule L2): a verdict that does not settle within `timeoutMs` (`limits.hookTimeoutMs`)
 * rejects with UNAVAILABLE naming the hook and the limit, so that the client retries and the requests queued
 * behind the verdict are freed, and `reached` counts the limit. A synchronous verdict passes as it is.
 */
export function boundedAuthorization<A extends unknown[]>(
  hook: ((...args: A) => boolean | Promise<boolean>) | undefined,
  name: 'authorize' | 'authorizeStatus',
  timeoutMs: number,
  reached: () => void,
): ((...args: A) => boolean | Promise<boolean>) | undefined {
  if (hook === undefined) return undefined;
  return (...args: A) => {
    const verdict = hook(...args);
    if (typeof verdict === 'boolean') return verdict;
    return new Promise<boolean>((resolve, reject) => {
      const timer = setTimeout(() => {
        reached();
        reject(
          new XdsError(
            Code.Unavailable,
            `${name} did not settle within limits.hookTimeoutMs (${timeoutMs} ms)`,
          ),
        );
      }, timeoutMs);
      verdict.then(
        (granted) => {
          clearTimeout(timer);
          resolve(granted);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  };
}
