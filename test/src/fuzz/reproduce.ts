// Running cases one at a time to find and shrink the one that broke a property. When the target died or got stuck
// with many cases in flight, each of them is replayed alone on a live target (a fresh one after each breakage)
// until one breaks it again; that case is then made smaller while it still breaks the same property.
import type { XdsTestClient } from '@xds/testing';
import type { FuzzCase, StreamPlan } from './case.js';
import { connectDecoys } from './decoys.js';
import { Connections, type Deadlines, runCase } from './run-case.js';
import { startTarget, type TargetProcess } from './target-process.js';
import type { TargetOptions } from './target-protocol.js';

/** What a lone run of a case did to the target. */
export type Breakage = 'died' | 'stuck' | 'case';

/** Runs cases alone against targets it starts and restarts as needed. */
export class Reproducer {
  readonly #options: TargetOptions;
  readonly #deadlines: Deadlines;
  #target: TargetProcess | undefined;
  #connections: Connections | undefined;
  #decoys: XdsTestClient[] = [];

  constructor(options: TargetOptions, deadlines: Deadlines) {
    this.#options = options;
    this.#deadlines = deadlines;
  }

  /** Runs one case on a live target; says how it broke the target or the case's own expectations, if it did. */
  async run(c: FuzzCase): Promise<{ breakage?: Breakage; detail?: string }> {
    if (this.#target === undefined || this.#target.dead) {
      this.#connections?.close();
      await Promise.all(this.#decoys.map((d) => d.close()));
      this.#target = await startTarget(this.#options);
      this.#connections = new Connections(this.#target.grpcPort, this.#target.restPort, 1);
      this.#decoys = connectDecoys(`127.0.0.1:${this.#target.grpcPort}`);
      // The decoys count only once the target holds their streams.
      for (let i = 0; i < 100 && (await this.#target.stats(false)).streams < this.#decoys.length; i++)
        await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const target = this.#target;
    const result = await runCase(c, this.#connections!, this.#deadlines);
    if (target.dead) return this.#broken('died', 'the target process exited');
    try {
      await target.stats(false, 5000);
    } catch {
      return this.#broken('stuck', 'the target stopped answering (event loop blocked)');
    }
    if (result.failure !== undefined) return { breakage: 'case', detail: result.failure };
    return {};
  }

  async #broken(breakage: Breakage, detail: string): Promise<{ breakage: Breakage; detail: string }> {
    const tail = this.#target?.stderrTail() ?? '';
    await this.close();
    return {
      breakage,
      detail: tail.trim() === '' ? detail : `${detail}; stderr:\n${tail.trim().slice(-2000)}`,
    };
  }

  /** Stops the current target (killing a stuck one). */
  async close(): Promise<void> {
    this.#connections?.close();
    this.#connections = undefined;
    await Promise.all(this.#decoys.map((d) => d.close()));
    this.#decoys = [];
    const target = this.#target;
    this.#target = undefined;
    if (target !== undefined && !target.dead) await target.stop();
  }
}

/** The first case of `candidates` that breaks the target alone, with how. */
export async function identify(
  reproducer: Reproducer,
  candidates: readonly { index: number; c: FuzzCase }[],
  budgetMs: number,
): Promise<{ index: number; c: FuzzCase; breakage: Breakage; detail: string } | undefined> {
  const until = performance.now() + budgetMs;
  for (const candidate of candidates) {
    if (performance.now() > until) return undefined;
    const outcome = await reproducer.run(candidate.c);
    if (outcome.breakage !== undefined && outcome.breakage !== 'case')
      return { ...candidate, breakage: outcome.breakage, detail: outcome.detail ?? '' };
  }
  return undefined;
}

/** Smaller variants of a case, the most promising first. */
function* shrinkings(c: FuzzCase): Generator<FuzzCase> {
  if (c.transport === 'rest') {
    for (const size of [0, c.body.length >> 1, (c.body.length * 3) >> 2])
      if (size < c.body.length) yield { ...c, body: c.body.subarray(0, size) };
    return;
  }
  const streams = c.streams;
  if (streams.length > 1) {
    yield { ...c, streams: streams.slice(0, streams.length >> 1) };
    yield { ...c, streams: streams.slice(streams.length >> 1) };
    for (let i = 0; i < streams.length && i < 8; i++) yield { ...c, streams: [streams[i]!] };
  }
  for (let s = 0; s < streams.length && s < 4; s++) {
    const plan = streams[s]!;
    const withPlan = (p: StreamPlan): FuzzCase => ({
      ...c,
      streams: streams.map((x, i) => (i === s ? p : x)),
    });
    if ((plan.holdMs ?? 0) > 0) yield withPlan({ ...plan, holdMs: 0 });
    for (const key of Object.keys(plan.headers ?? {})) {
      const headers = { ...plan.headers };
      delete headers[key];
      yield withPlan({ ...plan, headers });
    }
    for (let k = 0; k < plan.chunks.length && plan.chunks.length > 1; k++)
      yield withPlan({ ...plan, chunks: plan.chunks.filter((_, i) => i !== k) });
    for (let k = 0; k < plan.chunks.length; k++) {
      const chunk = plan.chunks[k]!;
      for (const size of [chunk.length >> 1, (chunk.length * 3) >> 2, chunk.length - 1]) {
        if (size <= 0 || size >= chunk.length) continue;
        yield withPlan({ ...plan, chunks: plan.chunks.map((b, i) => (i === k ? b.subarray(0, size) : b)) });
      }
    }
  }
}

/** Shrinks a case while it still breaks the target the same way, within a time budget. */
export async function minimise(
  reproducer: Reproducer,
  c: FuzzCase,
  breakage: Breakage,
  budgetMs: number,
): Promise<{ c: FuzzCase; attempts: number }> {
  const until = performance.now() + budgetMs;
  let best = c;
  let attempts = 0;
  let progress = true;
  while (progress && performance.now() < until) {
    progress = false;
    for (const candidate of shrinkings(best)) {
      if (performance.now() > until) break;
      attempts++;
      const outcome = await reproducer.run(candidate);
      if (outcome.breakage === breakage) {
        best = candidate;
        progress = true;
        break;
      }
    }
  }
  return { c: best, attempts };
}
