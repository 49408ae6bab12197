/** Command-line options of `npm run bench -- [options]`. */

/** Parsed options. */
export interface BenchOptions {
  readonly quick: boolean;
  /** Scenario ids to run ('1'…'9', 'tier', 'ceiling'); empty means all. */
  readonly only: ReadonlySet<string>;
  readonly go: boolean;
  readonly ours: boolean;
  readonly workers: number;
  /** Overrides the large client count of scenarios 1, 3, 4 and tier (default 10,000; 500 with --quick). */
  readonly clients: number | undefined;
  /** The services of the shared snapshot at the large client count (default 1,000; 100 with --quick). */
  readonly services: number | undefined;
  /** How long the soak scenario runs, in minutes (default 60; 1 with --quick). */
  readonly soakMinutes: number | undefined;
  /** Where the JSON results go (default bench/results/latest.json). */
  readonly out: string | undefined;
  readonly help: boolean;
}

export const usage = `Usage: npm run bench -- [--quick] [--only 1,4,ceiling] [--no-go] [--no-ours] [--workers N]

  --quick        every scenario at reduced N (under 2 minutes)
  --only LIST    run only these scenarios (1-9, tier, ceiling, soak), comma-separated; soak runs only when named
  --soak-minutes N  how long the soak scenario runs (default 60, 1 with --quick)
  --no-go        skip go-control-plane (also skipped when go is not installed)
  --no-ours      skip our server (handy to check the Go peer)
  --workers N    load worker processes (default 2)
  --clients N    the large client count of scenarios 1, 3, 4 and tier (default 10000, 500 with --quick)
  --services N   the services of their shared snapshot at that count (default 1000, 100 with --quick)
  --out FILE     write the JSON results to FILE (default bench/results/latest.json)`;

/** Parses argv (without node and the script). Throws an Error on an unknown option. */
export function parseArgs(argv: readonly string[]): BenchOptions {
  let quick = false;
  let go = true;
  let ours = true;
  let help = false;
  let workers = 2;
  let clients: number | undefined;
  let services: number | undefined;
  let soakMinutes: number | undefined;
  let out: string | undefined;
  const only = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg];
    const value = () => inline ?? argv[++i] ?? '';
    switch (flag) {
      case '--quick':
        quick = true;
        break;
      case '--no-go':
        go = false;
        break;
      case '--no-ours':
        ours = false;
        break;
      case '--only':
        for (const id of value().split(',')) if (id.trim() !== '') only.add(id.trim());
        break;
      case '--workers':
        workers = Math.max(1, Math.min(16, Number.parseInt(value(), 10) || 2));
        break;
      case '--clients':
        clients = Math.max(1, Number.parseInt(value(), 10) || 1);
        break;
      case '--services':
        services = Math.max(1, Number.parseInt(value(), 10) || 1);
        break;
      case '--soak-minutes':
        soakMinutes = Math.max(1, Number.parseFloat(value()) || 1);
        break;
      case '--out':
        out = value();
        break;
      case '--help':
      case '-h':
        help = true;
        break;
      default:
        throw new Error(`unknown option ${arg}\n${usage}`);
    }
  }
  return { quick, only, go, ours, workers, clients, services, soakMinutes, out, help };
}
