/**
 * The start-up and shutdown that `xds-server` and `xds-relay` share, so that both commands behave the same to an
 * operator: `--help` and `--version` on stdout, a usage error or a refusal on stderr with exit 2, a start failure as
 * one line on stderr (and a fatal JSON log line) with exit 1, and SIGTERM or SIGINT draining the process (exit 0)
 * within a deadline (exit 1 past it). Signals are handled from the moment the start begins, so that one that comes
 * while starting still drains once the start is done (or lets a failed start exit 1 with its message); a second
 * signal is logged and changes nothing, the deadline still holds. It loads nothing heavy: `--help` answers at once.
 *
 * The log is written synchronously to stdout: pino's default asynchronous stdout makes a fatal line flush
 * synchronously, and that flush retries forever once stdout's reader is gone (EPIPE), which kept a failed start,
 * signalled by execFile's timeout (pipes closed, then SIGTERM), alive for good. A synchronous write that meets a
 * closed pipe just turns the log off.
 */
import { readFileSync } from 'node:fs';
import { type Logger, pino } from 'pino';
import { createLogger, type LogLevel } from './logger.js';

/** How long a drain may take before the process gives up and exits with 1. */
export const drainDeadlineMs = 15_000;

/** What a command line asks for: run, print help or version, a usage error, or a refusal of unsafe flags. */
export type ParsedCommand<O> =
  | { readonly kind: 'run'; readonly options: O }
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'usage-error'; readonly message: string }
  | { readonly kind: 'refused'; readonly message: string };

/** A started process: what a signal drains. */
export interface Drainable {
  /** Drains and stops; the command exits 0 when it resolves. */
  close(): Promise<void>;
}

/** How a start failure is told: the line for stderr and the fields of the fatal log line. */
export interface StartFailure {
  readonly text: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** Options of {@link runCommand}. */
export interface CommandOptions<O extends { readonly logLevel: LogLevel }> {
  /** The command's name: `xds-server`, `xds-relay`; the prefix of its stderr lines and its logger's name. */
  readonly name: string;
  /** The help text. */
  readonly usage: string;
  /** The package.json whose version `--version` prints. */
  readonly packageJson: URL;
  /** The parsed command line. */
  readonly parsed: ParsedCommand<O>;
  /** Starts the process. */
  readonly start: (options: O, logger: Logger) => Promise<Drainable>;
  /**
   * Tells an expected start failure (an invalid model). An XdsError (a port in use, a certificate that cannot be
   * used) is expected too: its message says it all. Anything else is logged with its stack.
   */
  readonly explain?: (error: unknown) => StartFailure | undefined;
}

/** The `version` of a package.json. */
export function packageJsonVersion(packageJson: URL): string {
  return (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** An XdsError, told by its name so that this module does not load the xDS API. */
function expected(error: unknown): StartFailure | undefined {
  if (!(error instanceof Error) || error.name !== 'XdsError') return undefined;
  return { text: error.message, fields: { code: (error as Error & { codeName?: string }).codeName } };
}

/** Runs a command: help, version and usage errors, then the start, then a drain on SIGTERM or SIGINT. */
export async function runCommand<O extends { readonly logLevel: LogLevel }>(
  command: CommandOptions<O>,
): Promise<void> {
  const { name, parsed } = command;
  if (parsed.kind === 'help') {
    process.stdout.write(command.usage);
    return;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`${name} ${packageJsonVersion(command.packageJson)}\n`);
    return;
  }
  if (parsed.kind === 'usage-error' || parsed.kind === 'refused') {
    process.stderr.write(
      `${name}: ${parsed.message}\n${parsed.kind === 'usage-error' ? `\n${command.usage}` : ''}`,
    );
    process.exitCode = 2;
    return;
  }
  const logger = createLogger(
    parsed.options.logLevel,
    pino.destination({ fd: process.stdout.fd ?? 1, sync: true }),
    name,
  );
  const starting = command.start(parsed.options, logger);
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal, deadlineMs: drainDeadlineMs }, 'already shutting down');
      return;
    }
    stopping = true;
    logger.info({ signal, deadlineMs: drainDeadlineMs }, 'shutting down');
    // Not unref'd: the deadline holds whatever the drain waits on, including a start that never ends.
    setTimeout(() => {
      logger.error({ signal, deadlineMs: drainDeadlineMs }, 'drain took too long; exiting');
      process.exit(1);
    }, drainDeadlineMs);
    starting.then(
      (running) =>
        running.close().then(
          () => process.exit(0),
          (error: unknown) => {
            logger.error({ err: error }, 'drain failed');
            process.exit(1);
          },
        ),
      // A failed start is told and exits 1 below, with its own message.
      () => undefined,
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  try {
    await starting;
  } catch (error) {
    const failure = command.explain?.(error) ?? expected(error);
    if (failure === undefined) logger.fatal({ err: error }, 'could not start');
    else logger.fatal(failure.fields, `could not start: ${failure.text}`);
    process.stderr.write(`${name}: ${failure?.text ?? messageOf(error)}\n`);
    process.exit(1);
  }
}

/** The last resort of a command's `main()`: the stack on stderr, exit 1. */
export function crashed(name: string): (error: unknown) => never {
  return (error) => {
    process.stderr.write(
      `${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  };
}
