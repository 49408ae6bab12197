import type { ServiceModel } from './types.js';

/** One step of a path into the model: a field name or a list index. */
export type PathSegment = string | number;

/** What an error points at in the source: the field's key, its value, or (for a missing field) its parent. */
export type IssueTarget = 'key' | 'value' | 'parent';

/** A problem found in a model, located by path; parseModel adds lines and columns. */
export interface Issue {
  /** Where: `['services', 0, 'ports', 0, 'port']`. */
  readonly path: readonly PathSegment[];
  /** What is wrong, for people. */
  readonly message: string;
  /** What to point at in the source; default the value. */
  readonly target?: IssueTarget;
}

/** One error in a service model. */
export interface ModelError {
  /** The file, when the model came from one. */
  readonly file?: string;
  /** The 1-based line, when the model came from text. */
  readonly line?: number;
  /** The 1-based column, when the model came from text. */
  readonly column?: number;
  /** Where in the model: `services[0].ports[0].port` (empty for the whole document). */
  readonly path: string;
  /** What is wrong, for people. */
  readonly message: string;
}

/** The result of {@link parseModel} and {@link validateModel}: the model, or every error found. */
export type ModelResult =
  | { readonly ok: true; readonly model: ServiceModel }
  | { readonly ok: false; readonly errors: readonly ModelError[] };

const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `services[0].ports[0].port`; keys that are not identifiers are quoted: `headers["x-user"]`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (identifier.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** One line for a terminal: `bookinfo.yaml:12:15: services[0].ports[0].port: 70000 is out of range 1..65535`. */
export function formatModelError(error: ModelError): string {
  const where = [error.file, error.line, error.column].filter((part) => part !== undefined).join(':');
  const path = error.path === '' ? '' : `${error.path}: `;
  return `${where === '' ? '' : `${where}: `}${path}${error.message}`;
}
