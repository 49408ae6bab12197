// `npm run demo`: the reference server on a Bookinfo-like model, two real reviews backends (v1, v2) and a
// proxyless gRPC client (@grpc/grpc-js-xds) calling xds:///reviews.default.svc.cluster.local:9080. It shifts the
// traffic from v1 to v2 by editing the model file, prints where the RPCs land, and exits by itself.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { ChildLines } from './child-lines.js';
import { reviewsModel, reviewsTarget } from './demo-model.js';
import { type ReviewsBackend, startReviewsBackend } from './reviews-backend.js';
import { results, startReviewsCaller } from './reviews-caller.js';
import { type ServerProcess, startServerProcess } from './server-process.js';

const phases = [
  { v1: 100, v2: 0 },
  { v1: 80, v2: 20 },
  { v1: 50, v2: 50 },
  { v1: 0, v2: 100 },
];
/** How long each split is measured, after the change has settled. */
const phaseMs = 3000;
const settleMs = 1000;
/** The whole demo stops by this deadline, whatever happens. */
const deadlineMs = 90_000;

const say = (text: string) => process.stdout.write(`${text}\n`);
const percent = (part: number, whole: number) => (whole === 0 ? '–' : `${Math.round((100 * part) / whole)}%`);

async function run(dir: string, cleanup: (() => Promise<unknown>)[]): Promise<void> {
  const backends: ReviewsBackend[] = [await startReviewsBackend('v1'), await startReviewsBackend('v2')];
  cleanup.push(() => Promise.all(backends.map((b) => b.close())));
  const [v1, v2] = backends as [ReviewsBackend, ReviewsBackend];
  say(`reviews v1 on 127.0.0.1:${v1.port}, reviews v2 on 127.0.0.1:${v2.port}`);

  const file = join(dir, 'mesh.yaml');
  const write = (weights: { v1: number; v2: number }) =>
    writeFileSync(file, reviewsModel({ v1Port: v1.port, v2Port: v2.port, weights }));
  write(phases[0]!);
  const server: ServerProcess = await startServerProcess(
    ['--config', file, '--xds', '127.0.0.1:0', '--admin', '127.0.0.1:0'],
    {
      onLine: (line) => {
        if (typeof line['level'] === 'number' && line['level'] >= 40)
          say(`  [server] ${String(line['msg'])}`);
      },
    },
  );
  cleanup.push(() => server.process.stop());
  say(`xds-server: xDS on ${server.xdsAddress}, status page on http://${server.adminAddress}/`);
  say(`model file: ${file}`);

  const caller: ChildLines = startReviewsCaller({ xdsAddress: server.xdsAddress, nodeId: 'demo' });
  cleanup.push(() => caller.stop());
  say(`client: @grpc/grpc-js-xds calling ${reviewsTarget}`);
  await caller.waitFor((line) => line['ok'] === true, 15_000);

  for (const [index, weights] of phases.entries()) {
    if (index > 0) write(weights);
    await delay(settleMs);
    const from = caller.lines.length;
    await delay(phaseMs);
    const window = results(caller, from);
    const count = (version: string) => window.filter((r) => r.ok && r.version === version).length;
    const failed = window.filter((r) => !r.ok).length;
    say(
      `weights v1 ${weights.v1} / v2 ${weights.v2}: ${window.length} RPCs -> v1 ${count('v1')} (${percent(count('v1'), window.length)}), ` +
        `v2 ${count('v2')} (${percent(count('v2'), window.length)})${failed > 0 ? `, ${failed} failed` : ''}`,
    );
  }
  say('done: the traffic followed the model file.');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'xds-demo-'));
  const cleanup: (() => Promise<unknown>)[] = [];
  const deadline = setTimeout(() => {
    process.stderr.write(`demo: still running after ${deadlineMs} ms; giving up\n`);
    process.exit(1);
  }, deadlineMs);
  deadline.unref();
  try {
    await run(dir, cleanup);
  } finally {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    clearTimeout(deadline);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
