/**
 * The benchmark harness: `npm run bench` (add `-- --quick` for a subset: about 40 s of load per database).
 *
 * In one run, on one machine, it measures the service and the ceilings it is compared with:
 *   (a) a bare node:http server (the HTTP ceiling),
 *   (b) a bare NestJS 11 + Express app with no-op routes (the framework ceiling),
 *   (c) the database alone running the update transaction in a tight loop (the storage ceiling).
 * Every scenario runs ceiling and service interleaved (A B A B …) and reports medians, so the
 * ratios hold on any machine. SQLite always; PostgreSQL too when DATABASE_URL is set.
 *
 * Options: --quick, --runs=N, --seconds=S, --connections=1,16,64, --scenarios=get-level,…
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { createLevels, type Measurement, measure, type Scenario, type ScenarioName, SCENARIOS } from './scenarios';
import { buildService, createStore, measureStorage, ROOT, startBaseline, startService, type Target } from './targets';

interface Options {
  readonly quick: boolean;
  readonly runs: number;
  readonly seconds: number;
  readonly connections: readonly number[];
  readonly scenarios: readonly ScenarioName[];
  readonly dialects: ReadonlyArray<'sqlite' | 'postgres'>;
}

function parseOptions(argv: readonly string[]): Options {
  const flag = (name: string) => argv.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1];
  const quick = argv.includes('--quick');
  const list = (value: string | undefined) => value?.split(',').filter((item) => item.length > 0);
  return {
    quick,
    runs: Number(flag('runs') ?? (quick ? 1 : 3)),
    seconds: Number(flag('seconds') ?? (quick ? 2 : 4)),
    connections: (list(flag('connections')) ?? (quick ? ['64'] : ['1', '16', '64'])).map(Number),
    scenarios: (list(flag('scenarios')) ?? (quick ? ['get-level', 'update-many', 'reserve-hot', 'replay', 'batch-100'] : SCENARIOS.map((scenario) => scenario.name))) as ScenarioName[],
    dialects: process.env.DATABASE_URL === undefined ? ['sqlite'] : ['sqlite', 'postgres'],
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The median of each figure over the runs (each figure separately). */
function medianOf(runs: readonly Measurement[]): Measurement {
  const pick = (field: 'requestsPerSecond' | 'appliedPerSecond' | 'p50' | 'p99' | 'max' | 'errors' | 'timeouts') => median(runs.map((run) => run[field]));
  const statuses: Record<string, number> = {};
  for (const run of runs) {
    for (const [status, count] of Object.entries(run.statuses)) {
      statuses[status] = (statuses[status] ?? 0) + count;
    }
  }
  return {
    requestsPerSecond: pick('requestsPerSecond'),
    appliedPerSecond: pick('appliedPerSecond'),
    p50: pick('p50'),
    p99: pick('p99'),
    max: pick('max'),
    statuses,
    errors: pick('errors'),
    timeouts: pick('timeouts'),
  };
}

interface Row {
  readonly dialect: string;
  readonly scenario: ScenarioName;
  readonly connections: number;
  readonly service: Measurement;
  readonly framework?: Measurement;
  readonly http?: Measurement;
  readonly runs: { service: Measurement[]; framework: Measurement[]; http: Measurement[] };
}

const format = (value: number, digits = 0) => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const percent = (ratio: number | undefined) => (ratio === undefined ? '' : `${format(ratio * 100)}%`);

async function runScenario(scenario: Scenario, connections: number, targets: { service: Target; framework: Target; http: Target }, options: Options, dialect: string): Promise<Row> {
  const runId = `${scenario.name}-${connections}-${Date.now()}`;
  // Loads keep their state (known versions, keys) across runs, so every run starts where the last ended.
  const serviceLoad = scenario.load(connections, runId);
  const frameworkLoad = scenario.load(connections, `${runId}-framework`);
  const httpLoad = scenario.load(connections, `${runId}-http`);
  const compareFramework = scenario.name !== 'batch-10' && scenario.name !== 'batch-100';
  const compareHttp = scenario.name === 'get-level' || scenario.name === 'update-many';
  // Warm-up: JIT and connection pools, not measured.
  await measure(targets.service.url, serviceLoad, connections, 1, 'warm-up');
  if (compareFramework) {
    await measure(targets.framework.url, frameworkLoad, connections, 1, 'warm-up');
  }
  const runs: Row['runs'] = { service: [], framework: [], http: [] };
  for (let run = 0; run < options.runs; run += 1) {
    if (compareFramework) {
      runs.framework.push(await measure(targets.framework.url, frameworkLoad, connections, options.seconds));
    }
    if (compareHttp) {
      runs.http.push(await measure(targets.http.url, httpLoad, connections, options.seconds));
    }
    runs.service.push(await measure(targets.service.url, serviceLoad, connections, options.seconds));
  }
  const row: Row = {
    dialect,
    scenario: scenario.name,
    connections,
    service: medianOf(runs.service),
    ...(compareFramework ? { framework: medianOf(runs.framework) } : {}),
    ...(compareHttp ? { http: medianOf(runs.http) } : {}),
    runs,
  };
  const failures = Object.entries(row.service.statuses)
    .filter(([status]) => !status.startsWith('2') && status !== '409')
    .map(([status, count]) => `${count}×${status}`);
  console.error(
    `  ${dialect} ${scenario.name} @${connections}: ${format(row.service.requestsPerSecond)} req/s, ${format(row.service.appliedPerSecond)} applied/s, p99 ${format(row.service.p99, 1)} ms` +
      (row.framework ? ` | framework ${format(row.framework.requestsPerSecond)} req/s` : '') +
      (failures.length > 0 ? ` | unexpected: ${failures.join(', ')}` : ''),
  );
  return row;
}

interface Ratio {
  readonly label: string;
  readonly value: number;
  readonly target?: number;
}

/** The ratio each scenario is judged by, against the ceiling it names. */
function ratiosOf(row: Row, rows: readonly Row[]): Ratio[] {
  const single = rows.find((other) => other.dialect === row.dialect && other.scenario === 'update-many' && other.connections === row.connections);
  const framework = row.framework?.requestsPerSecond;
  switch (row.scenario) {
    case 'get-level':
      return framework === undefined ? [] : [{ label: 'of framework GET', value: row.service.requestsPerSecond / framework, target: 0.85 }];
    case 'update-many': {
      const ratios: Ratio[] = [];
      if (framework !== undefined) {
        ratios.push({ label: 'of framework POST', value: row.service.appliedPerSecond / framework, ...(row.connections === 64 ? { target: row.dialect === 'sqlite' ? 0.6 : 0.5 } : {}) });
      }
      if (row.framework !== undefined && row.connections === 64 && row.dialect === 'sqlite') {
        ratios.push({ label: 'p99 × framework p99', value: row.service.p99 / Math.max(row.framework.p99, 1e-3), target: -2 });
      }
      return ratios;
    }
    case 'update-hot':
      return framework === undefined ? [] : [{ label: 'of framework POST', value: row.service.appliedPerSecond / framework }];
    case 'reserve-hot': {
      // Held units per second against update-many's applied updates at the same connections: holds
      // on one SKU commute, so a hot SKU should keep the throughput of spread-out updates.
      const ratios: Ratio[] = [];
      if (single !== undefined) {
        ratios.push({ label: 'of update-many applied/s', value: row.service.appliedPerSecond / single.service.appliedPerSecond, target: 0.8 });
      }
      // The framework's no-op routes answer the same holds and follow-ups.
      if (row.framework !== undefined) {
        ratios.push({ label: 'of framework holds/s', value: row.service.appliedPerSecond / row.framework.appliedPerSecond });
      }
      return ratios;
    }
    case 'batch-10':
    case 'batch-100':
      return single === undefined ? [] : [{ label: '× single updates', value: row.service.appliedPerSecond / single.service.appliedPerSecond, ...(row.scenario === 'batch-100' ? { target: -20 } : {}) }];
    case 'replay':
      return framework === undefined ? [] : [{ label: 'of framework POST', value: row.service.requestsPerSecond / framework, target: 0.85 }];
  }
}

/** A target > 0 is a minimum ratio (a share of a ceiling); < 0 is a multiple (-2: at most ×2 for latency, -20: at least ×20 for batches). */
function verdict({ label, value, target }: Ratio): string {
  if (target === undefined) {
    return '';
  }
  if (target > 0) {
    return value >= target ? `met (≥ ${percent(target)})` : `missed (≥ ${percent(target)})`;
  }
  const multiple = -target;
  if (label.startsWith('p99')) {
    return value <= multiple ? `met (≤ ×${multiple})` : `missed (≤ ×${multiple})`;
  }
  return value >= multiple ? `met (≥ ×${multiple})` : `missed (≥ ×${multiple})`;
}

function table(rows: readonly Row[], storage: Record<string, Record<string, number>>): string {
  const lines = [
    '| Database | Scenario | Conn. | Service req/s | Applied/s | p50 ms | p99 ms | max ms | Errors | Ceiling req/s (framework / http) | Ratio | Target |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|',
  ];
  for (const row of rows) {
    const unexpected = Object.entries(row.service.statuses)
      .filter(([status]) => !status.startsWith('2') && status !== '409')
      .reduce((sum, [, count]) => sum + count, 0);
    const ceilings = [row.framework?.requestsPerSecond, row.http?.requestsPerSecond].map((value) => (value === undefined ? '–' : format(value))).join(' / ');
    const ratios = ratiosOf(row, rows);
    const shown = ratios.map((ratio) => (ratio.label.startsWith('×') || ratio.label.startsWith('p99') ? `${format(ratio.value, 1)} ${ratio.label}` : `${percent(ratio.value)} ${ratio.label}`));
    lines.push(
      `| ${row.dialect} | ${row.scenario} | ${row.connections} | ${format(row.service.requestsPerSecond)} | ${format(row.service.appliedPerSecond)} | ${format(row.service.p50, 1)} | ${format(row.service.p99, 1)} | ${format(row.service.max)} | ${unexpected + row.service.errors + row.service.timeouts} | ${ceilings} | ${shown.join('; ')} | ${ratios.map(verdict).filter((text) => text.length > 0).join('; ')} |`,
    );
  }
  for (const [dialect, ceilings] of Object.entries(storage)) {
    lines.push('', `Storage ceiling (${dialect}): ${Object.entries(ceilings).map(([label, value]) => `${format(value)} transactions/s ${label}`).join(', ')}.`);
  }
  return lines.join('\n');
}

function machine(): Record<string, unknown> {
  const processors = cpus();
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
  } catch {
    // not a git checkout
  }
  return { cores: processors.length, cpu: processors[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: `${process.platform} ${process.arch}`, commit };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const started = new Date();
  const host = machine();
  console.error(`benchmark: ${JSON.stringify({ ...options, machine: host })}`);
  console.error('building the service …');
  buildService();
  const framework = await startBaseline('framework (NestJS, no-op)', 'nest-bare.ts');
  const http = await startBaseline('http (node:http)', 'node-http.ts');
  const rows: Row[] = [];
  const storage: Record<string, Record<string, number>> = {};
  try {
    for (const dialect of options.dialects) {
      const ceilingStore = await createStore(dialect);
      storage[dialect] =
        dialect === 'sqlite'
          ? { 'one update per transaction (synchronous=FULL)': await measureStorage(ceilingStore, options.quick ? 2000 : 4000, 1) }
          : {
              'from 1 connection': await measureStorage(ceilingStore, options.quick ? 2000 : 4000, 1),
              'from 16 connections': await measureStorage(ceilingStore, options.quick ? 2000 : 4000, 16),
            };
      await ceilingStore.dispose();
      console.error(`  ${dialect} storage ceiling: ${JSON.stringify(storage[dialect])}`);

      const store = await createStore(dialect);
      try {
        const service = await startService(store);
        try {
          const scenarios = SCENARIOS.filter((scenario) => options.scenarios.includes(scenario.name));
          const products = scenarios.flatMap((scenario) => options.connections.flatMap((connections) => scenario.products(connections)));
          await createLevels(service.url, [...new Set(products)]);
          for (const scenario of scenarios) {
            for (const connections of options.connections) {
              rows.push(await runScenario(scenario, connections, { service, framework, http }, options, dialect));
            }
          }
        } finally {
          await service.stop();
        }
      } finally {
        await store.dispose();
      }
    }
  } finally {
    await framework.stop();
    await http.stop();
  }

  const rendered = table(rows, storage);
  console.log(`\n${rendered}\n`);
  console.log(`machine: ${host.cores as number} cores (${String(host.cpu)}), Node ${String(host.node)}, commit ${String(host.commit)}; ${options.runs} run(s) of ${options.seconds} s per figure, medians.`);
  const directory = join(ROOT, 'bench', 'results');
  mkdirSync(directory, { recursive: true });
  const name = `${started.toISOString().replace(/[:.]/g, '-')}${options.quick ? '-quick' : ''}`;
  const rowsWithRatios = rows.map((row) => ({ ...row, ratios: ratiosOf(row, rows).map((ratio) => ({ ...ratio, verdict: verdict(ratio) })) }));
  writeFileSync(join(directory, `${name}.json`), `${JSON.stringify({ started, options, machine: host, storage, rows: rowsWithRatios }, null, 2)}\n`);
  writeFileSync(join(directory, `${name}.md`), `${rendered}\n`);
  console.log(`results: bench/results/${name}.json`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
