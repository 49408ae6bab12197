/** Scenario results, the markdown tables and the JSON file. */
import type { PeerKind } from './peer.js';

/** One figure of a scenario, for each peer. */
export interface Metric {
  readonly name: string;
  readonly unit: string;
  readonly ours?: number | undefined;
  readonly go?: number | undefined;
  /** Shown in the one-line summary of the scenario. */
  readonly headline?: boolean;
}

/** What a scenario returns. */
export interface ScenarioResult {
  readonly id: string;
  readonly title: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly metrics: readonly Metric[];
  /** Everything measured, per peer, for the JSON file. */
  readonly raw: Partial<Record<PeerKind | 'ceiling', unknown>>;
  readonly notes: readonly string[];
}

/** Collects a scenario's figures peer by peer. */
export class MetricSet {
  readonly #metrics = new Map<string, { unit: string; headline: boolean; ours?: number; go?: number }>();

  /** Sets a figure of one peer; the first call for a name fixes its place, unit and headline flag. */
  set(peer: PeerKind, name: string, unit: string, value: number, headline = false): void {
    let metric = this.#metrics.get(name);
    if (metric === undefined) {
      metric = { unit, headline };
      this.#metrics.set(name, metric);
    }
    metric[peer] = value;
  }

  list(): Metric[] {
    return [...this.#metrics].map(([name, m]) => ({ name, ...m }));
  }
}

/** ours / go, when both are there and go is not 0. */
export function ratio(metric: Metric): number | undefined {
  if (metric.ours === undefined || metric.go === undefined || metric.go === 0) return undefined;
  return metric.ours / metric.go;
}

function format(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return '–';
  const abs = Math.abs(value);
  if (abs >= 100_000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function formatRatio(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '–' : `${value.toFixed(2)}×`;
}

/** One markdown row of a metric. */
export function metricRow(scenario: ScenarioResult, metric: Metric): string {
  return `| ${scenario.id} | ${metric.name} (${metric.unit}) | ${format(metric.ours)} | ${format(metric.go)} | ${formatRatio(ratio(metric))} |`;
}

const header = ['| # | figure | ours | go-control-plane | ours/go |', '|---|---|---:|---:|---:|'];

/** The summary table: the headline figures of each scenario. */
export function summaryTable(results: readonly ScenarioResult[]): string {
  const rows = results.flatMap((r) => r.metrics.filter((m) => m.headline).map((m) => metricRow(r, m)));
  return [...header, ...rows].join('\n');
}

/** The full table: every figure of every scenario. */
export function detailTable(results: readonly ScenarioResult[]): string {
  const rows = results.flatMap((r) => r.metrics.map((m) => metricRow(r, m)));
  return [...header, ...rows].join('\n');
}
