/**
 * `npm run bench -- [--quick] [--only 1,4] [--no-go]`: our xDS server against go-control-plane v0.14.0 on the
 * same machine, the same snapshots and the same load clients. See bench/README.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureCeiling } from './ceiling.js';
import { parseArgs, usage } from './cli.js';
import { nowMs } from './clock.js';
import { Load } from './load.js';
import { buildGoPeer, describeMachine, goVersion } from './machine.js';
import { PayloadStore } from './payloads.js';
import type { PeerKind } from './peer.js';
import { detailTable, metricRow, type ScenarioResult, summaryTable } from './report.js';
import { churn } from './scenarios/churn.js';
import { connectStorm } from './scenarios/connect-storm.js';
import type { BenchContext } from './scenarios/context.js';
import { fanOut } from './scenarios/fan-out.js';
import { idleCost } from './scenarios/idle.js';
import { largeConfig } from './scenarios/large.js';
import { nackStorm } from './scenarios/nack-storm.js';
import { registryChange } from './scenarios/registry-change.js';
import { soak } from './scenarios/soak.js';
import { stalledClientsScenario } from './scenarios/stalled.js';
import { tier } from './scenarios/tier.js';
import { uniqueSnapshots } from './scenarios/unique.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const scenarios: readonly { id: string; run: (ctx: BenchContext) => Promise<ScenarioResult> }[] = [
  { id: 'ceiling', run: measureCeiling },
  { id: '1', run: fanOut },
  { id: '2', run: uniqueSnapshots },
  { id: '3', run: connectStorm },
  { id: '4', run: idleCost },
  { id: '5', run: churn },
  { id: '6', run: nackStorm },
  { id: '7', run: largeConfig },
  { id: '8', run: stalledClientsScenario },
  { id: '9', run: registryChange },
  { id: 'tier', run: tier },
  // An hour by default: only when named (`--only soak`).
  { id: 'soak', run: soak },
];

const startedAt = nowMs();

function progress(line: string): void {
  const seconds = ((nowMs() - startedAt) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`bench ${seconds}s: ${line}\n`);
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  if (options.help) {
    console.log(usage);
    return 0;
  }
  const started = startedAt;
  const goBinary = join(root, '.bench-go/go-peer');
  const go = options.go ? goVersion() : undefined;
  const peers: PeerKind[] = options.ours ? ['ours'] : [];
  if (!options.go) console.log('go-control-plane: skipped (--no-go)');
  else if (go === undefined) console.log('go-control-plane: skipped (go not installed)');
  else {
    progress(`building bench/go-peer with ${go}`);
    const error = buildGoPeer(root, goBinary);
    if (error === undefined) peers.push('go');
    else console.log(`go-control-plane: skipped (go build failed: ${error.split('\n')[0]})`);
  }
  const machine = describeMachine(go);
  const selected = scenarios.filter((s) =>
    options.only.size === 0 ? s.id !== 'soak' : options.only.has(s.id),
  );
  const load = await Load.start(root, options.workers);
  const store = new PayloadStore();
  const ctx: BenchContext = {
    quick: options.quick,
    paths: { root, goBinary },
    peers,
    load,
    store,
    progress,
    selected: new Set(selected.map((s) => s.id)),
    shared: new Map(),
    clients: options.clients,
    services: options.services,
    soakMinutes: options.soakMinutes,
  };
  const results: ScenarioResult[] = [];
  const failures: string[] = [];
  try {
    for (const scenario of selected) {
      const t0 = nowMs();
      try {
        const result = await scenario.run(ctx);
        results.push(result);
        console.log(JSON.stringify({ scenario: result.id, title: result.title, metrics: result.metrics }));
        for (const metric of result.metrics.filter((m) => m.headline)) console.log(metricRow(result, metric));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        failures.push(`${scenario.id}: ${message}`);
        console.log(`scenario ${scenario.id} failed: ${message}`);
      }
      progress(`scenario ${scenario.id} took ${((nowMs() - t0) / 1000).toFixed(1)} s`);
    }
  } finally {
    await load.stop();
    store.dispose();
  }
  const seconds = (nowMs() - started) / 1000;
  const out = options.out === undefined ? join(root, 'bench/results/latest.json') : resolve(options.out);
  mkdirSync(dirname(out), { recursive: true });
  const file = {
    mode: options.quick ? 'quick' : 'full',
    date: new Date().toISOString(),
    durationSeconds: Math.round(seconds),
    machine,
    peers,
    results,
    failures,
  };
  writeFileSync(out, `${JSON.stringify(file, null, 2)}\n`);
  console.log(`\n## Summary (${file.mode}, ${seconds.toFixed(0)} s)\n\n${summaryTable(results)}`);
  console.log(`\n## All figures\n\n${detailTable(results)}\n\nwrote ${out}`);
  // A scenario may fail its own check (soak: memory growth) and still report its figures.
  return failures.length === 0 && !process.exitCode ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
