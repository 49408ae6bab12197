// The watched service model file: what is served and the current error (rules L2 and L4). A change is read and
// checked in a worker thread (model-reader.ts), one at a time, and each content is handled once however many
// notifications announce it: an invalid save is logged and counted once, and the last good model stays.
import { type FSWatcher, type Stats, unwatchFile, watch, watchFile } from 'node:fs';
import { basename, dirname } from 'node:path';
import { createPushDebouncer, formatModelError, type PushDebouncer, type ServiceModel } from '@xds/generator';
import { type ModelError, type ModelLimits, resolveModelLimits } from '@xds/generator/model';
import { EventEmitter } from 'eventemitter3';
import type { Logger } from 'pino';
import type { ConfigState } from './config-state.js';
import { readModelFile } from './model-read.js';
import { ModelReader } from './model-reader.js';

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
  /** A new text was read and is being checked, in a worker thread; `digest` as in {@link ConfigState.digest}. */
  checking: [{ readonly file: string; readonly digest: string }];
}

/** What {@link ModelFile.reload} did: applied, rejected or cleared (each with its event), or nothing. */
export type ReloadOutcome = 'applied' | 'rejected' | 'cleared' | 'unchanged' | 'closed';

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
  /** Bounds on the file's size, nesting and expanded size; unset ones take `defaultModelLimits`. */
  readonly limits?: Partial<ModelLimits>;
  /** How long reading and checking a change may take before its worker is stopped (ms); default 60,000. */
  readonly reloadTimeoutMs?: number;
  /** The heap of the worker that reads a change (MiB); default 1,024 (a 4 MiB model needs about 500). */
  readonly reloadHeapMiB?: number;
}

/** The default of {@link ModelFileOptions.reloadTimeoutMs}. */
export const defaultReloadTimeoutMs = 60_000;
/** The default of {@link ModelFileOptions.reloadHeapMiB}. */
export const defaultReloadHeapMiB = 1024;

/** The file could not be read, or holds an invalid model, when the server starts. */
export class ModelLoadError extends Error {
  readonly errors: readonly ModelError[];
  constructor(errors: readonly ModelError[]) {
    super(errors.map(formatModelError).join('\n'));
    this.name = 'ModelLoadError';
    this.errors = errors;
  }
}

/**
 * A service model file: the last good model and the current error, kept up to date by watching the file. Every
 * change goes through the generator's push debouncer and is read in a worker thread; a valid change emits
 * `applied`, an invalid one `rejected` (and is logged with file, line, column and path) while the last good model
 * stays. A content already applied or rejected is not read again.
 */
export class ModelFile extends EventEmitter<ModelFileEvents> {
  readonly #options: ModelFileOptions;
  readonly #logger: Logger;
  readonly #limits: ModelLimits;
  #state: ConfigState;
  /** The SHA-256 of the served text. */
  #served: string;
  /** The SHA-256 of the text of the current error, when it is known. */
  #rejected: string | undefined;
  /** The errors of the current error when the file could not be read (and so has no digest). */
  #unreadable: string | undefined;
  #debouncer: PushDebouncer<string> | undefined;
  #watcher: FSWatcher | undefined;
  #poller: ((now: Stats, before: Stats) => void) | undefined;
  /** The reload running or last run: reloads run one at a time. */
  #queue: Promise<unknown> = Promise.resolve();
  readonly #stop = new AbortController();
  readonly #reader: ModelReader;

  private constructor(options: ModelFileOptions, limits: ModelLimits, digest: string, model: ServiceModel) {
    super();
    this.#options = options;
    this.#logger = options.logger;
    this.#limits = limits;
    this.#served = digest;
    this.#rejected = undefined;
    this.#reader = new ModelReader({
      timeoutMs: options.reloadTimeoutMs ?? defaultReloadTimeoutMs,
      maxHeapMiB: options.reloadHeapMiB ?? defaultReloadHeapMiB,
    });
    this.#state = {
      file: options.file,
      source: options.source,
      model,
      generation: 1,
      appliedAt: Date.now(),
      digest: digest.slice(0, 12),
      error: undefined,
    };
  }

  /**
   * Reads and parses the file (in this thread: nothing is served yet); throws a {@link ModelLoadError} listing
   * every error when it is not valid, or a RangeError for a limit that is not a positive integer.
   */
  static open(options: ModelFileOptions): ModelFile {
    const limits = resolveModelLimits(options.limits);
    const loaded = readModelFile({ file: options.file, limits });
    if (loaded.kind !== 'model') throw new ModelLoadError(loaded.kind === 'errors' ? loaded.errors : []);
    return new ModelFile(options, limits, loaded.digest, loaded.model);
  }

  /** What is served, and the current error. */
  get state(): ConfigState {
    return this.#state;
  }

  /** Starts watching the file (a no-op for the embedded example or when already watching). */
  watch(): void {
    if (this.#options.source !== 'file' || this.#debouncer !== undefined || this.#stop.signal.aborted) return;
    this.#debouncer = createPushDebouncer<string>({
      quietMs: this.#options.debounceMs ?? 100,
      maxMs: this.#options.maxDelayMs ?? 2000,
      onPush: async () => {
        await this.reload();
      },
      onError: (error) => this.#logger.error({ err: error }, 'applying the config failed'),
    });
    const file = this.#options.file;
    const name = basename(file);
    // Watch the folder, not the file: editors save by writing a new file and renaming it over the old one. The
    // poll catches what notifications miss (network file systems); a content seen twice is read once.
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
   * Reads the file now, in a worker thread, after any reload already running; applies it when valid and new,
   * records, logs and emits the errors when not, and does nothing for a content already handled. Called by the
   * debouncer; public for tests and for a reload on demand. Rejects only when an event listener throws.
   */
  reload(): Promise<ReloadOutcome> {
    const run = this.#queue.then(() => this.#reloadNow());
    this.#queue = run.catch(() => undefined); // a listener's exception must not stop later reloads
    return run;
  }

  async #reloadNow(): Promise<ReloadOutcome> {
    const file = this.#options.file;
    if (this.#stop.signal.aborted) return 'closed';
    this.#logger.debug({ file }, 'reading the config file');
    const result = await this.#reader.read({
      file,
      limits: this.#limits,
      known: this.#rejected === undefined ? [this.#served] : [this.#served, this.#rejected],
      signal: this.#stop.signal,
      onChecking: (digest) => {
        this.#logger.debug({ file, digest: digest.slice(0, 12) }, 'checking a change of the config file');
        this.emit('checking', { file, digest: digest.slice(0, 12) });
      },
    });
    if (result.kind === 'cancelled' || this.#stop.signal.aborted) return 'closed';
    if (result.kind === 'known') {
      if (result.digest !== this.#served || this.#state.error === undefined) {
        this.#logger.debug({ file }, 'config unchanged since it was last read');
        return 'unchanged';
      }
      this.#rejected = undefined;
      this.#unreadable = undefined;
      this.#state = { ...this.#state, error: undefined };
      this.#logger.info({ file }, 'config error cleared: the file is back to the model being served');
      this.emit('cleared', { state: this.#state });
      return 'cleared';
    }
    if (result.kind === 'errors') {
      // A file that cannot be read has no digest: the same failure (a deleted file) is reported once too.
      const unreadable =
        result.digest === undefined ? result.errors.map(formatModelError).join('\n') : undefined;
      if (unreadable !== undefined && unreadable === this.#unreadable) return 'unchanged';
      this.#rejected = result.digest;
      this.#unreadable = unreadable;
      this.#state = { ...this.#state, error: { at: Date.now(), errors: result.errors } };
      this.#logger.error(
        { file, errors: result.errors, generation: this.#state.generation },
        `config rejected, still serving generation ${this.#state.generation}: ${formatModelError(result.errors[0]!)}`,
      );
      this.emit('rejected', { errors: result.errors, state: this.#state });
      return 'rejected';
    }
    this.#served = result.digest;
    this.#rejected = undefined;
    this.#unreadable = undefined;
    this.#state = {
      ...this.#state,
      model: result.model,
      generation: this.#state.generation + 1,
      appliedAt: Date.now(),
      digest: result.digest.slice(0, 12),
      error: undefined,
    };
    this.#logger.info(
      { file, generation: this.#state.generation, digest: this.#state.digest },
      'config applied',
    );
    this.emit('applied', { model: result.model, state: this.#state });
    return 'applied';
  }

  /** Stops watching and stops a read in progress; a change waiting in the debouncer is dropped. */
  async close(): Promise<void> {
    this.#stop.abort();
    this.#watcher?.close();
    this.#watcher = undefined;
    if (this.#poller !== undefined) unwatchFile(this.#options.file, this.#poller);
    this.#poller = undefined;
    await this.#debouncer?.close();
    await this.#queue;
    await this.#reader.close();
  }
}
