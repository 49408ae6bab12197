import { createHash } from 'node:crypto';
import { type FSWatcher, readFileSync, type Stats, unwatchFile, watch, watchFile } from 'node:fs';
import { basename, dirname } from 'node:path';
import {
  createPushDebouncer,
  formatModelError,
  type ModelError,
  type PushDebouncer,
  parseModel,
  type ServiceModel,
} from '@xds/generator';
import { EventEmitter } from 'eventemitter3';
import type { Logger } from 'pino';
import type { ConfigState } from './config-state.js';

/** A model was applied. */
export interface ModelAppliedEvent {
  readonly model: ServiceModel;
  readonly state: ConfigState;
}

/** A change to the file could not be applied; the last good model stays. */
export interface ModelRejectedEvent {
  readonly errors: readonly ModelError[];
  readonly state: ConfigState;
}

/** The events of {@link ModelFile}. */
export interface ModelFileEvents {
  /** A valid change was applied: a new generation. */
  applied: [ModelAppliedEvent];
  /** A change was invalid; the last good model stays. */
  rejected: [ModelRejectedEvent];
  /** The file went back to the model being served: the error is gone, the generation stays. */
  cleared: [{ readonly state: ConfigState }];
}

/** Options of {@link ModelFile.open}. */
export interface ModelFileOptions {
  readonly file: string;
  readonly source: 'file' | 'embedded';
  readonly logger: Logger;
  /** Quiet time before a change is applied (ms); default 100. */
  readonly debounceMs?: number;
  /** Apply at the latest this long after the first of a burst of changes (ms); default 2,000. */
  readonly maxDelayMs?: number;
  /** How often the file's stat is polled, besides change notifications (ms); default 1,000. */
  readonly pollMs?: number;
}

/** The file could not be read, or holds an invalid model, when the server starts. */
export class ModelLoadError extends Error {
  readonly errors: readonly ModelError[];
  constructor(errors: readonly ModelError[]) {
    super(errors.map(formatModelError).join('\n'));
    this.name = 'ModelLoadError';
    this.errors = errors;
  }
}

type Loaded = { ok: true; text: string; model: ServiceModel } | { ok: false; errors: readonly ModelError[] };

function load(file: string): Loaded {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, errors: [{ file, path: '', message: `cannot read the file: ${message}` }] };
  }
  const result = parseModel(text, { file });
  return result.ok ? { ok: true, text, model: result.model } : { ok: false, errors: result.errors };
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/**
 * A service model file: the last good model and the current error, kept up to date by watching the file. Every
 * change goes through the generator's push debouncer; a valid change emits `applied`, an invalid one `rejected`
 * (and is logged with file, line, column and path) while the last good model stays.
 */
export class ModelFile extends EventEmitter<ModelFileEvents> {
  readonly #options: ModelFileOptions;
  readonly #logger: Logger;
  #state: ConfigState;
  #text: string;
  #debouncer: PushDebouncer<string> | undefined;
  #watcher: FSWatcher | undefined;
  #poller: ((now: Stats, before: Stats) => void) | undefined;

  private constructor(options: ModelFileOptions, text: string, model: ServiceModel) {
    super();
    this.#options = options;
    this.#logger = options.logger;
    this.#text = text;
    this.#state = {
      file: options.file,
      source: options.source,
      model,
      generation: 1,
      appliedAt: Date.now(),
      digest: digest(text),
      error: undefined,
    };
  }

  /** Reads and parses the file; throws a {@link ModelLoadError} listing every error when it is not valid. */
  static open(options: ModelFileOptions): ModelFile {
    const loaded = load(options.file);
    if (!loaded.ok) throw new ModelLoadError(loaded.errors);
    return new ModelFile(options, loaded.text, loaded.model);
  }

  /** What is served, and the current error. */
  get state(): ConfigState {
    return this.#state;
  }

  /** Starts watching the file (a no-op for the embedded example or when already watching). */
  watch(): void {
    if (this.#options.source !== 'file' || this.#debouncer !== undefined) return;
    this.#debouncer = createPushDebouncer<string>({
      quietMs: this.#options.debounceMs ?? 100,
      maxMs: this.#options.maxDelayMs ?? 2000,
      onPush: () => this.reload(),
      onError: (error) => this.#logger.error({ err: error }, 'applying the config failed'),
    });
    const file = this.#options.file;
    const name = basename(file);
    // Watch the folder, not the file: editors save by writing a new file and renaming it over the old one.
    this.#watcher = watch(dirname(file), (_event, changed) => {
      if (changed === null || changed === name) this.#debouncer?.schedule('watch');
    });
    this.#watcher.on('error', (error) =>
      this.#logger.warn({ err: error, file }, 'watching the config failed'),
    );
    const poller = (now: Stats, before: Stats) => {
      if (now.mtimeMs !== before.mtimeMs || now.size !== before.size) this.#debouncer?.schedule('poll');
    };
    this.#poller = poller;
    watchFile(file, { interval: this.#options.pollMs ?? 1000 }, poller);
    this.#logger.info({ file }, 'watching the config file');
  }

  /**
   * Reads the file now and applies it when valid and changed; records, logs and emits the errors when not.
   * Called by the debouncer; public for tests and for a reload on demand.
   */
  reload(): void {
    const file = this.#options.file;
    const loaded = load(file);
    if (!loaded.ok) {
      this.#state = { ...this.#state, error: { at: Date.now(), errors: loaded.errors } };
      this.#logger.error(
        { file, errors: loaded.errors, generation: this.#state.generation },
        `config rejected, still serving generation ${this.#state.generation}: ${formatModelError(loaded.errors[0]!)}`,
      );
      this.emit('rejected', { errors: loaded.errors, state: this.#state });
      return;
    }
    if (loaded.text === this.#text) {
      if (this.#state.error !== undefined) {
        this.#state = { ...this.#state, error: undefined };
        this.#logger.info({ file }, 'config error cleared: the file is back to the model being served');
        this.emit('cleared', { state: this.#state });
      }
      return;
    }
    this.#text = loaded.text;
    this.#state = {
      ...this.#state,
      model: loaded.model,
      generation: this.#state.generation + 1,
      appliedAt: Date.now(),
      digest: digest(loaded.text),
      error: undefined,
    };
    this.#logger.info(
      { file, generation: this.#state.generation, digest: this.#state.digest },
      'config applied',
    );
    this.emit('applied', { model: loaded.model, state: this.#state });
  }

  /** Stops watching; a change waiting in the debouncer is dropped. */
  async close(): Promise<void> {
    this.#watcher?.close();
    this.#watcher = undefined;
    if (this.#poller !== undefined) unwatchFile(this.#options.file, this.#poller);
    this.#poller = undefined;
    await this.#debouncer?.close();
  }
}
