/**
 * /healthz while a model at the generation limits is published (rule L4, issue 10): a child process
 * (publish-slices-host.ts) serves /healthz and publishes 1,000 endpoints x 99 subsets (100,000 generated
 * endpoints, every assignment changed each time) into a SnapshotCache, with `publishModel` in one piece (`sync`,
 * as xds-server did before) or with `publishModelAsync` in slices (`async`). This process asks /healthz over one
 * kept-alive connection, one request after another, from the first publish to the last, and prints per mode the
 * latency p50 / p99 / max and how many answers came during the publishes, and each publish's time (model given to
 * snapshots set) and CPU time, p50 and max. Before the publishes, /healthz is asked for `--idle-ms` (3,000) with
 * nothing published: the machine's noise floor. The modes alternate for `--rounds` rounds (default 2), so that both
 * see the same load on a shared machine. `--publishes N` per round (default 5); `--modes sync,async`.
 *
 *   npx tsx bench/src/publish-slices.ts [--publishes 5] [--rounds 2] [--modes sync,async] [--idle-ms 3000]
 */
import { fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    publishes: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '2' },
    modes: { type: 'string', default: 'sync,async' },
    'idle-ms': { type: 'string', default: '3000' },
  },
});
const publishes = Number(values.publishes);
const idleMs = Number(values['idle-ms']);

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

interface Run {
  readonly mode: string;
  readonly idle: number[];
  readonly latencies: number[];
  readonly times: number[];
  readonly cpu: number[];
  readonly pauses: number;
}

async function run(mode: string): Promise<Run> {
  const child = fork(join(import.meta.dirname, 'publish-slices-host.ts'), [mode], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const replies: Record<string, number>[] = [];
  let waiter: (() => void) | undefined;
  child.on('message', (m: Record<string, number>) => {
    replies.push(m);
    waiter?.();
  });
  const reply = async (): Promise<Record<string, number>> => {
    while (replies.length === 0) await new Promise<void>((resolve) => (waiter = resolve));
    return replies.shift()!;
  };
  const port = (await reply())['port']!;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const healthz = () =>
    new Promise<number>((resolve, reject) => {
      const started = performance.now();
      request({ host: '127.0.0.1', port, path: '/healthz', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(performance.now() - started));
      })
        .on('error', reject)
        .end();
    });
  // the first publish builds everything (a cold start); the measured ones change every assignment
  child.send({ publish: 0 });
  await reply();
  const idle: number[] = [];
  for (const end = performance.now() + idleMs; performance.now() < end; ) idle.push(await healthz());
  const latencies: number[] = [];
  let publishing = true;
  const probing = (async () => {
    while (publishing) latencies.push(await healthz());
  })();
  const times: number[] = [];
  const cpu: number[] = [];
  let pauses = 0;
  for (let i = 1; i <= publishes; i++) {
    child.send({ publish: i });
    const done = await reply();
    times.push(done['ms']!);
    cpu.push(done['cpuMs']!);
    pauses += done['pauses']!;
  }
  publishing = false;
  await probing;
  agent.destroy();
  child.send({ exit: true });
  return { mode, idle, latencies, times, cpu, pauses };
}

const round = (n: number) => Math.round(n * 10) / 10;
function stats(values: readonly number[]): { p50: number; p99: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: round(quantile(sorted, 0.5)),
    p99: round(quantile(sorted, 0.99)),
    max: round(sorted.at(-1)!),
  };
}

const modes = values.modes.split(',');
const runs: Run[] = [];
for (let r = 0; r < Number(values.rounds); r++) for (const mode of modes) runs.push(await run(mode));
for (const mode of modes) {
  const mine = runs.filter((r) => r.mode === mode);
  const all = (pick: (r: Run) => number[]) => mine.flatMap(pick);
  const publishesDone = all((r) => r.times).length;
  console.log(
    JSON.stringify({
      mode,
      publishes: publishesDone,
      publishMs: stats(all((r) => r.times)),
      publishCpuMs: stats(all((r) => r.cpu)),
      pausesPerPublish: Math.round(mine.reduce((n, r) => n + r.pauses, 0) / publishesDone),
      healthzIdleMs: stats(all((r) => r.idle)),
      healthzAnswers: all((r) => r.latencies).length,
      healthzMs: stats(all((r) => r.latencies)),
    }),
  );
}
