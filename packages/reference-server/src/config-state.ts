import type { ModelError, ServiceModel } from '@xds/generator';

/** The current error of the config file: the last change could not be applied. */
export interface ConfigErrorState {
  /** When the change was seen (ms since the epoch). */
  readonly at: number;
  /** Every error found, each with file, line, column and path when known. */
  readonly errors: readonly ModelError[];
}

/** What the server serves and where it came from. */
export interface ConfigState {
  /** The model file. */
  readonly file: string;
  /** `file`: given with --config and watched; `embedded`: the built-in example, not watched. */
  readonly source: 'file' | 'embedded';
  /** The last good model: the one being served. */
  readonly model: ServiceModel;
  /** How many models were applied (1 after start). */
  readonly generation: number;
  /** When the served model was applied (ms since the epoch). */
  readonly appliedAt: number;
  /** A short hash of the served file's text. */
  readonly digest: string;
  /** The latest change's errors, until a valid change comes. */
  readonly error: ConfigErrorState | undefined;
}
