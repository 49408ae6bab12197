/**
 * The verdict on one response: which resources are accepted and every error found, not only the first (the way
 * grpc-js-xds validators collect errors). Resources that do not decode, names given twice and resources the
 * validation hook rejects are errors; the rest are accepted, as gRPC clients do, so that one bad resource does not
 * hold back the good ones (in delta a server does not send an unchanged resource again after a NACK).
 */
import { ErrorList } from './error-list.js';
import type { ClientLimitName, Validate } from './options.js';
import type { ReadResponse } from './protocol.js';
import type { XdsResource } from './resource.js';

/** What a response holds, judged. */
export interface Verdict {
  /** The resources accepted. */
  readonly accepted: XdsResource[];
  /** The errors, in order: the first that fit in `maxErrorBytes`, and how many more (rule L2). */
  readonly errors: ErrorList;
  /** The names present in the response, rejected ones included. */
  readonly present: Set<string>;
  /** True when some resource could not even be named (it did not decode): SotW removals cannot be told then. */
  readonly unnamed: boolean;
  /** The client limits some resource passed (its size, name or version), each once. */
  readonly limits: ClientLimitName[];
}

/**
 * Judges the resources of a response with the validation hook; errors are kept up to `maxErrorBytes` of text, each
 * its reason first and the resource's name after it, shortened (see `error-list.ts`).
 */
export function judge(read: ReadResponse, validate: Validate | undefined, maxErrorBytes: number): Verdict {
  const accepted: XdsResource[] = [];
  const errors = new ErrorList(maxErrorBytes);
  const present = new Set<string>();
  const limits = new Set<ClientLimitName>();
  let unnamed = false;
  for (const decoded of read.resources) {
    if (!decoded.ok) {
      errors.push(decoded.error, decoded.about);
      if (decoded.limit !== undefined) limits.add(decoded.limit);
      // A resource refused by name is present: SotW keeps what is held of it instead of removing it.
      if (decoded.name === undefined) unnamed = true;
      else present.add(decoded.name);
      continue;
    }
    const resource = decoded.resource;
    if (present.has(resource.name)) {
      errors.push('the same name twice in one response', resource.name);
      continue;
    }
    present.add(resource.name);
    const verdict = judgeOne(validate, read.typeUrl, resource);
    if (verdict !== undefined) errors.push(verdict, resource.name);
    else accepted.push(resource);
  }
  return { accepted, errors, present, unnamed, limits: [...limits] };
}

function judgeOne(
  validate: Validate | undefined,
  typeUrl: string,
  resource: XdsResource,
): string | undefined {
  if (validate === undefined) return undefined;
  try {
    const verdict = validate(typeUrl, resource);
    if (verdict === null || verdict === undefined) return undefined;
    return typeof verdict === 'string' ? verdict : verdict.message;
  } catch (e) {
    return `the validation hook threw: ${e instanceof Error ? e.message : String(e)}`;
  }
}
