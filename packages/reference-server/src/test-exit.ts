// Waiting for a child process to exit, with a deadline (the project's rule: every wait has one, sized for a loaded
// machine). A child that does not exit fails its test with a message naming what was awaited, and is killed, with
// its whole process group when it leads one, instead of holding the test file until CI's time limit.
import { type ChildProcess, spawnSync } from 'node:child_process';

/** How a child ended: its exit code, or the signal that killed it. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Options of {@link exitWithin} and {@link exited}. */
export interface ExitWaitOptions {
  /** The child leads a process group of its own (spawned with `detached: true`): kill the group on the deadline. */
  readonly group?: boolean;
}

/**
 * SIGKILLs the process group that `pid` leads (a child spawned with `detached: true`, and whatever it started).
 * Returns false when no such group is left.
 */
export function killGroup(pid: number): boolean {
  try {
    process.kill(-pid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

/** SIGKILLs the child, and its process group when `group` is set. */
function kill(child: ChildProcess, group: boolean): void {
  if (group && child.pid !== undefined && killGroup(child.pid)) return;
  child.kill('SIGKILL');
}

/**
 * Resolves with the child's exit, or with 'alive' once `deadlineMs` has passed; then the child (its group with
 * `group`) has been sent SIGKILL.
 */
export function exitWithin(
  child: ChildProcess,
  deadlineMs: number,
  options: ExitWaitOptions = {},
): Promise<Exit | 'alive'> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      kill(child, options.group === true);
      resolve('alive');
    }, deadlineMs);
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      resolve({ code, signal });
    };
    child.once('exit', onExit);
  });
}

/**
 * The child's exit within `deadlineMs`; past it the child (its group with `group`) is killed and this throws
 * "`what` did not exit within N ms", followed by `details()` (the child's last output, say).
 */
export async function exited(
  child: ChildProcess,
  deadlineMs: number,
  what: string,
  options: ExitWaitOptions & { readonly details?: () => string } = {},
): Promise<Exit> {
  const exit = await exitWithin(child, deadlineMs, options);
  if (exit === 'alive') {
    const details = options.details?.() ?? '';
    throw new Error(
      `${what} did not exit within ${deadlineMs} ms (killed)${details === '' ? '' : `\n${details}`}`,
    );
  }
  return exit;
}

/** What {@link runSync} returns: the exit code and the output as text. */
export interface SyncRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `node args` to its end (spawnSync) with a deadline of `deadlineMs`: past it the child is killed and this
 * throws "node ARGS did not exit within N ms" with its stderr, instead of blocking the test file for good.
 */
export function runSync(args: readonly string[], deadlineMs = 180_000): SyncRun {
  const run = spawnSync(process.execPath, [...args], {
    encoding: 'utf8',
    timeout: deadlineMs,
    killSignal: 'SIGKILL',
  });
  if (run.error !== undefined) {
    const timedOut = (run.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
    throw new Error(
      `node ${args.join(' ')} ${timedOut ? `did not exit within ${deadlineMs} ms (killed)` : `failed: ${run.error.message}`}\n${run.stderr ?? ''}`,
    );
  }
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}
