/**
 * /healthz while a model at the generation limits is published (rule L4, issue 10): a child process
 * (publish-slices-host.ts) serves /healthz and publishes 1,000 endpoints x 99 subsets (100,000 generated
 * endpoints, every assignment changed each time) into a SnapshotCache, with `publishModel` in one piece (`sync`,
 * as xds-server did before) or with `publishModelAsync` in slices (`async`). This process asks /healthz over one
 * kept-alive connection, one request after another, from the first publish to the last, and prints per mode the
 * latency p50 / p99 / max and how many answers came during the publishes, and each publish's time (model given to
 * snapshots set), p50 and max. `--publishes N` (default 5); `--modes sync,async`.
 *
 *   npx tsx bench/src/publish-slices.ts [--publishes 5] [--modes sync,async]
 */
import { fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { publishes: { type: 'string', default: '5' }, modes: { type: 'string', default: 'sync,async' } },
});
const publishes = Number(values.publishes);

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

async function run(mode: string): Promise<Record<string, unknown>> {
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
  const latencies: number[] = [];
  let publishing = true;
  const probing = (async () => {
    while (publishing) latencies.push(await healthz());
  })();
  const times: number[] = [];
  let pauses = 0;
  for (let i = 1; i <= publishes; i++) {
    child.send({ publish: i });
    const done = await reply();
    times.push(done['ms']!);
    pauses += done['pauses']!;
  }
  publishing = false;
  await probing;
  agent.destroy();
  child.send({ exit: true });
  const sorted = [...latencies].sort((a, b) => a - b);
  const sortedTimes = [...times].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    mode,
    publishes,
    publishMsP50: round(quantile(sortedTimes, 0.5)),
    publishMsMax: round(sortedTimes.at(-1)!),
    pausesPerPublish: Math.round(pauses / publishes),
    healthzAnswers: latencies.length,
    healthzMsP50: round(quantile(sorted, 0.5)),
    healthzMsP99: round(quantile(sorted, 0.99)),
    healthzMsMax: round(sorted.at(-1)!),
  };
}

for (const mode of values.modes.split(',')) console.log(JSON.stringify(await run(mode)));
