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
 * The stream scenarios (update-many-streams, update-many-streams-tail-off) hold change streams open
 * on the service during the load and compare it with the same load without them, interleaved.
 *
 * The chain read scenarios (list-page, history-page) run on a service of their own that seeds the
 * chain dataset (SEED_DEMO=chain) and compare a page of 100 levels, or of 100 ledger entries, with
 * get-level on the same service (a random level of the chain), interleaved: latency ratios.
 *
 * With --workers=1,2 every scenario runs once per setting, the service with WORKERS=n and the
 * framework ceilings in as many processes, and the results compare each n with 1.
 *
 * Options: --quick, --runs=N, --seconds=S, --connections=1,16,64, --scenarios=get-level,…,
 * --streams=2000 (update-many-streams), --streams-tail-off=400 (update-many-streams-tail-off),
 * --workers=1 (a list).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { CHAIN_SEED, createLevels, feedHead, type Measurement, measure, type Scenario, type ScenarioName, SCENARIOS } from './scenarios';
import { type DeliveryReport, StreamClients } from './streams';
import { BENCH_API_KEY, buildService, createStore, measureStorage, ROOT, startBaseline, startService, type Target } from './targets';

interface Options {
  readonly quick: boolean;
  readonly runs: number;
  readonly seconds: number;
  readonly connections: readonly number[];
  readonly scenarios: readonly ScenarioName[];
  readonly dialects: ReadonlyArray<'sqlite' | 'postgres'>;
  /** Streams held open by update-many-streams and by update-many-streams-tail-off. */
  readonly streams: { readonly 'update-many-streams': number; readonly 'update-many-streams-tail-off': number };
  /** WORKERS settings to measure, each with the framework ceilings run with as many workers. */
  readonly workers: readonly number[];
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
    streams: { 'update-many-streams': Number(flag('streams') ?? 2000), 'update-many-streams-tail-off': Number(flag('streams-tail-off') ?? 400) },
    workers: (list(flag('workers')) ?? ['1']).map(Number),
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
  const latency = (field: 'p50' | 'p99') => median(runs.map((run) => run.latency[field]));
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
    latency: { p50: latency('p50'), p99: latency('p99') },
    cpuPerRequest: {
      ...(runs.every((run) => run.cpuPerRequest.service !== undefined) ? { service: median(runs.map((run) => run.cpuPerRequest.service!)) } : {}),
      client: median(runs.map((run) => run.cpuPerRequest.client)),
    },
    statuses,
    errors: pick('errors'),
    timeouts: pick('timeouts'),
  };
}

/** The service's counters (/metrics): reads of the ledger made for the change feed, group commits and CPU time. */
interface ServiceCounters {
  readonly tail: number;
  readonly catchUp: number;
  readonly head: number;
  readonly commits: number;
  readonly cpuSeconds: number;
}

/** One run of a stream scenario with its streams open, and the run without them before it. */
interface StreamRun {
  readonly delivery: DeliveryReport;
  /** Counted from just before the load to the last delivery. */
  readonly feed: ServiceCounters;
  /** Feed reads of the ledger (tail + catch_up, not head) per group commit. */
  readonly readsPerCommit: number;
  /** The service's CPU time per applied update, ms, without the streams and with them. */
  readonly cpuPerUpdate: { readonly without: number; readonly with: number };
  readonly openMs: number;
}

/** What a stream scenario measured besides the load with its streams open (the row's `service`). */
interface StreamFigures {
  readonly streams: number;
  readonly unscoped: number;
  readonly stores: number;
  readonly tail: boolean;
  /** The same load without streams, interleaved with the runs with them. */
  readonly withoutStreams: Measurement;
  /** Medians over the runs; `undelivered` and `unexpected` are totals. */
  readonly delivery: { readonly p50: number; readonly p99: number; readonly max: number; readonly changes: number; readonly deliveries: number; readonly undelivered: number; readonly unexpected: number };
  readonly readsPerCommit: number;
  /** Medians of the service's CPU time per applied update, ms. */
  readonly cpuPerUpdate: { readonly without: number; readonly with: number };
  /** Median share of the time the streams' client (a worker thread of the harness) was busy. */
  readonly clientBusy: number;
  /** Median time to open every stream, ms. */
  readonly openMs: number;
}

interface Row {
  readonly dialect: string;
  /** The service's WORKERS, and the framework ceilings' worker processes. */
  readonly workers: number;
  readonly scenario: ScenarioName;
  readonly connections: number;
  readonly service: Measurement;
  readonly framework?: Measurement;
  readonly http?: Measurement;
  readonly streams?: StreamFigures;
  /** The scenario's reference load on the same service (get-level for the chain's pages), interleaved. */
  readonly reference?: Measurement;
  readonly runs: { service: Measurement[]; framework: Measurement[]; http: Measurement[]; withoutStreams?: Measurement[]; streams?: StreamRun[]; reference?: Measurement[] };
}

const format = (value: number, digits = 0) => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const percent = (ratio: number | undefined) => (ratio === undefined ? '' : `${format(ratio * 100)}%`);

async function runScenario(scenario: Scenario, connections: number, targets: { service: Target; framework: Target; http: Target }, options: Options, dialect: string, workers: number): Promise<Row> {
  const runId = `${scenario.name}-${connections}-${Date.now()}`;
  // Loads keep their state (known versions, keys) across runs, so every run starts where the last ended.
  const serviceLoad = scenario.load(connections, runId);
  const frameworkLoad = scenario.load(connections, `${runId}-framework`);
  const httpLoad = scenario.load(connections, `${runId}-http`);
  const referenceLoad = scenario.reference?.load(connections);
  const compareFramework = scenario.name !== 'batch-10' && scenario.name !== 'batch-100' && referenceLoad === undefined;
  const compareHttp = scenario.name === 'get-level' || scenario.name === 'update-many';
  // Warm-up: JIT and connection pools, not measured.
  await measure(targets.service.url, serviceLoad, connections, 1, 'warm-up');
  if (compareFramework) {
    await measure(targets.framework.url, frameworkLoad, connections, 1, 'warm-up');
  }
  if (referenceLoad !== undefined) {
    await measure(targets.service.url, referenceLoad, connections, 1, 'warm-up');
  }
  const runs: Row['runs'] = { service: [], framework: [], http: [], ...(referenceLoad === undefined ? {} : { reference: [] }) };
  for (let run = 0; run < options.runs; run += 1) {
    if (referenceLoad !== undefined) {
      runs.reference!.push(await measure(targets.service.url, referenceLoad, connections, options.seconds));
    }
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
    workers,
    scenario: scenario.name,
    connections,
    service: medianOf(runs.service),
    ...(compareFramework ? { framework: medianOf(runs.framework) } : {}),
    ...(compareHttp ? { http: medianOf(runs.http) } : {}),
    ...(runs.reference === undefined ? {} : { reference: medianOf(runs.reference) }),
    runs,
  };
  const failures = Object.entries(row.service.statuses)
    .filter(([status]) => !status.startsWith('2') && status !== '409')
    .map(([status, count]) => `${count}×${status}`);
  console.error(
    `  ${dialect} ${scenario.name} @${connections}${workers > 1 ? ` WORKERS=${workers}` : ''}: ${format(row.service.requestsPerSecond)} req/s, ${format(row.service.appliedPerSecond)} applied/s, p99 ${format(row.service.p99, 1)} ms` +
      (row.framework ? ` | framework ${format(row.framework.requestsPerSecond)} req/s` : '') +
      (row.reference
        ? ` | p50 ${format(row.service.latency.p50, 2)} ms, p99 ${format(row.service.latency.p99, 2)} ms; ${scenario.reference!.name} ${format(row.reference.requestsPerSecond)} req/s, p50 ${format(row.reference.latency.p50, 2)} ms, p99 ${format(row.reference.latency.p99, 2)} ms`
        : '') +
      (failures.length > 0 ? ` | unexpected: ${failures.join(', ')}` : ''),
  );
  return row;
}

/** The service's counters from /metrics. */
async function serviceCounters(url: string): Promise<ServiceCounters> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0);
  return {
    tail: value(/^inventory_feed_reads_total\{read="tail"\} (\S+)$/m),
    catchUp: value(/^inventory_feed_reads_total\{read="catch_up"\} (\S+)$/m),
    head: value(/^inventory_feed_reads_total\{read="head"\} (\S+)$/m),
    commits: value(/^inventory_group_commit_updates_count (\S+)$/m),
    cpuSeconds: value(/^process_cpu_seconds_total (\S+)$/m),
  };
}

function countersBetween(before: ServiceCounters, after: ServiceCounters): ServiceCounters {
  return {
    tail: after.tail - before.tail,
    catchUp: after.catchUp - before.catchUp,
    head: after.head - before.head,
    commits: after.commits - before.commits,
    cpuSeconds: after.cpuSeconds - before.cpuSeconds,
  };
}

/** Waits until the service counts `count` open subscribers (streams close on their side a moment after ours). */
async function awaitSubscribers(url: string, count: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const text = await (await fetch(`${url}/metrics`)).text();
    const open = Number(/^inventory_feed_subscribers (\S+)$/m.exec(text)?.[1] ?? Number.NaN);
    if (open === count) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`the service counts ${open} feed subscribers, not ${count}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A stream scenario: the load alone, then with the streams open (opened at the head before the
 * load starts, held until every change of the run has reached every stream that should receive
 * it), `runs` times, interleaved.
 */
async function runStreamScenario(scenario: Scenario, connections: number, service: Target, options: Options, dialect: string): Promise<Row> {
  const count = options.streams[scenario.name as keyof Options['streams']];
  const setup = scenario.streams!(count);
  const load = scenario.load(connections, `${scenario.name}-${connections}-${Date.now()}`);
  // The service's CPU time per applied update over a measured run (its settling included).
  const cpuPerUpdate = (counters: ServiceCounters, measurement: Measurement, seconds: number) => (counters.cpuSeconds * 1000) / Math.max(measurement.appliedPerSecond * seconds, 1);
  const withoutStreams = async (seconds: number, purpose: 'measured' | 'warm-up') => {
    const before = await serviceCounters(service.url);
    const measurement = await measure(service.url, load, connections, seconds, purpose);
    return { measurement, cpuPerUpdate: cpuPerUpdate(countersBetween(before, await serviceCounters(service.url)), measurement, seconds) };
  };
  const withStreams = async (seconds: number, purpose: 'measured' | 'warm-up') => {
    const clients = await StreamClients.open({ url: service.url, apiKey: BENCH_API_KEY, after: await feedHead(service.url), ...setup });
    try {
      await awaitSubscribers(service.url, setup.scoped + setup.unscoped);
    } catch (error) {
      await clients.drain(0, 0);
      throw error;
    }
    const before = await serviceCounters(service.url);
    const measurement = await measure(service.url, load, connections, seconds, purpose);
    const delivery = await clients.drain(await feedHead(service.url), 30_000);
    const feed = countersBetween(before, await serviceCounters(service.url));
    await awaitSubscribers(service.url, 0);
    return { measurement, delivery, feed, readsPerCommit: (feed.tail + feed.catchUp) / Math.max(feed.commits, 1), cpuPerUpdate: cpuPerUpdate(feed, measurement, seconds), openMs: clients.openMs };
  };
  await withoutStreams(1, 'warm-up');
  await withStreams(1, 'warm-up');
  const runs: Required<Omit<Row['runs'], 'reference'>> = { service: [], framework: [], http: [], withoutStreams: [], streams: [] };
  for (let run = 0; run < options.runs; run += 1) {
    const alone = await withoutStreams(options.seconds, 'measured');
    const { measurement, delivery, feed, readsPerCommit, cpuPerUpdate: withCpu, openMs } = await withStreams(options.seconds, 'measured');
    runs.withoutStreams.push(alone.measurement);
    runs.service.push(measurement);
    runs.streams.push({ delivery, feed, readsPerCommit, cpuPerUpdate: { without: alone.cpuPerUpdate, with: withCpu }, openMs });
  }
  const deliveries = runs.streams.map((run) => run.delivery);
  const figures: StreamFigures = {
    streams: setup.scoped + setup.unscoped,
    unscoped: setup.unscoped,
    stores: setup.stores.length,
    tail: scenario.env?.FEED_TAIL_CHANGES !== '0',
    withoutStreams: medianOf(runs.withoutStreams),
    delivery: {
      p50: median(deliveries.map((report) => report.p50)),
      p99: median(deliveries.map((report) => report.p99)),
      max: median(deliveries.map((report) => report.max)),
      changes: median(deliveries.map((report) => report.changes)),
      deliveries: median(deliveries.map((report) => report.deliveries)),
      undelivered: deliveries.reduce((sum, report) => sum + report.undelivered, 0),
      unexpected: deliveries.reduce((sum, report) => sum + report.unexpected, 0),
    },
    readsPerCommit: median(runs.streams.map((run) => run.readsPerCommit)),
    cpuPerUpdate: { without: median(runs.streams.map((run) => run.cpuPerUpdate.without)), with: median(runs.streams.map((run) => run.cpuPerUpdate.with)) },
    clientBusy: median(deliveries.map((report) => report.clientBusy)),
    openMs: median(runs.streams.map((run) => run.openMs)),
  };
  const row: Row = { dialect, workers: 1, scenario: scenario.name, connections, service: medianOf(runs.service), streams: figures, runs };
  console.error(
    `  ${dialect} ${scenario.name} @${connections}, ${figures.streams} streams: ${format(row.service.appliedPerSecond)} applied/s (${format(figures.withoutStreams.appliedPerSecond)} without), ` +
      `delivery p99 ${format(figures.delivery.p99)} ms, ${format(figures.readsPerCommit, 2)} feed reads per commit, ` +
      `service CPU ${format(figures.cpuPerUpdate.without, 2)} → ${format(figures.cpuPerUpdate.with, 2)} ms per update` +
      (figures.delivery.undelivered + figures.delivery.unexpected > 0 ? ` | undelivered ${figures.delivery.undelivered}, unexpected ${figures.delivery.unexpected}` : ''),
  );
  return row;
}

interface Ratio {
  readonly label: string;
  readonly value: number;
  readonly target?: number;
  /** A figure of its own rather than a ratio, shown with its unit ('' for a plain number). */
  readonly unit?: string;
  /** For such a figure: the most it may be. */
  readonly atMost?: number;
}

/**
 * The targets of one process at 64 connections (the figures other connection counts show are for
 * reading, not judged): ratios to the framework ceiling, p99 as a multiple of the framework's,
 * and batches against single updates.
 */
const TARGETS = {
  getLevel: 0.7,
  updateMany: { sqlite: 0.55, postgres: 0.45 },
  updateManyP99: 2,
  replay: 0.8,
  batch100: 15,
} as const;

/** The ratio each scenario is judged by, against the ceiling it names. */
function ratiosOf(row: Row, rows: readonly Row[]): Ratio[] {
  const single = rows.find((other) => other.dialect === row.dialect && other.workers === row.workers && other.scenario === 'update-many' && other.connections === row.connections);
  const framework = row.framework?.requestsPerSecond;
  const judged = row.connections === 64;
  const target = (value: number) => (judged ? { target: value } : {});
  switch (row.scenario) {
    case 'get-level':
      return framework === undefined ? [] : [{ label: 'of framework GET', value: row.service.requestsPerSecond / framework, ...target(TARGETS.getLevel) }];
    case 'update-many': {
      const ratios: Ratio[] = [];
      if (framework !== undefined) {
        ratios.push({ label: 'of framework POST', value: row.service.appliedPerSecond / framework, ...target(row.dialect === 'sqlite' ? TARGETS.updateMany.sqlite : TARGETS.updateMany.postgres) });
      }
      if (row.framework !== undefined && judged && row.dialect === 'sqlite') {
        ratios.push({ label: 'p99 × framework p99', value: row.service.p99 / Math.max(row.framework.p99, 1e-3), target: -TARGETS.updateManyP99 });
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
      return single === undefined ? [] : [{ label: '× single updates', value: row.service.appliedPerSecond / single.service.appliedPerSecond, ...(row.scenario === 'batch-100' ? target(-TARGETS.batch100) : {}) }];
    case 'replay':
      return framework === undefined ? [] : [{ label: 'of framework POST', value: row.service.requestsPerSecond / framework, ...target(TARGETS.replay) }];
    case 'update-many-streams':
    case 'update-many-streams-tail-off': {
      // The same load without streams, measured interleaved: what holding the streams open costs
      // the writes. With the tail off the figures show the cost the tail removes; no targets.
      const streams = row.streams;
      if (streams === undefined) {
        return [];
      }
      const judged = row.scenario === 'update-many-streams';
      return [
        { label: 'of applied/s without streams', value: row.service.appliedPerSecond / streams.withoutStreams.appliedPerSecond, ...(judged ? { target: 0.8 } : {}) },
        { label: 'delivery p99', value: streams.delivery.p99, unit: 'ms', ...(judged ? { atMost: 1000 } : {}) },
        { label: 'feed reads per commit', value: streams.readsPerCommit, unit: '', ...(judged ? { atMost: 1 } : {}) },
      ];
    }
    case 'list-page':
    case 'history-page': {
      // Against get-level of a random chain level on the same service, measured interleaved:
      // latencies timed by the harness (sub-millisecond), judged at p50 and at p99.
      const reference = row.reference;
      if (reference === undefined) {
        return [];
      }
      return [
        { label: 'p50 × get-level p50', value: row.service.latency.p50 / Math.max(reference.latency.p50, 1e-3), target: -2 },
        { label: 'p99 × get-level p99', value: row.service.latency.p99 / Math.max(reference.latency.p99, 1e-3), target: -2 },
        { label: 'of get-level req/s', value: row.service.requestsPerSecond / reference.requestsPerSecond },
      ];
    }
  }
}

/** A target > 0 is a minimum ratio (a share of a ceiling); < 0 is a multiple (-2: at most ×2 for latency, -15: at least ×15 for batches). */
function verdict({ label, value, target, unit, atMost }: Ratio): string {
  if (atMost !== undefined) {
    const bound = `≤ ${format(atMost)}${unit === undefined || unit === '' ? '' : ` ${unit}`}`;
    return value <= atMost ? `met (${bound})` : `missed (${bound})`;
  }
  if (target === undefined) {
    return '';
  }
  if (target > 0) {
    return value >= target ? `met (≥ ${percent(target)})` : `missed (≥ ${percent(target)})`;
  }
  const multiple = -target;
  if (label.startsWith('p99') || label.startsWith('p50')) {
    return value <= multiple ? `met (≤ ×${multiple})` : `missed (≤ ×${multiple})`;
  }
  return value >= multiple ? `met (≥ ×${multiple})` : `missed (≥ ×${multiple})`;
}

function table(rows: readonly Row[], storage: Record<string, Record<string, number>>, setup: readonly string[]): string {
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
    const shown = ratios.map((ratio) => {
      if (ratio.unit !== undefined) {
        return `${ratio.label} ${format(ratio.value, ratio.unit === '' ? 2 : 0)}${ratio.unit === '' ? '' : ` ${ratio.unit}`}`;
      }
      if (ratio.label.startsWith('p50 ×') || (ratio.label.startsWith('p99 ×') && row.reference !== undefined)) {
        return `${format(ratio.value, 2)} ${ratio.label}`;
      }
      return ratio.label.startsWith('×') || ratio.label.startsWith('p99') ? `${format(ratio.value, 1)} ${ratio.label}` : `${percent(ratio.value)} ${ratio.label}`;
    });
    lines.push(
      `| ${row.dialect} | ${row.scenario}${row.workers > 1 ? ` (WORKERS=${row.workers})` : ''} | ${row.connections} | ${format(row.service.requestsPerSecond)} | ${format(row.service.appliedPerSecond)} | ${format(row.service.p50, 1)} | ${format(row.service.p99, 1)} | ${format(row.service.max)} | ${unexpected + row.service.errors + row.service.timeouts} | ${ceilings} | ${shown.join('; ')} | ${ratios.map(verdict).filter((text) => text.length > 0).join('; ')} |`,
    );
  }
  for (const [dialect, ceilings] of Object.entries(storage)) {
    lines.push('', `Storage ceiling (${dialect}): ${Object.entries(ceilings).map(([label, value]) => `${format(value)} transactions/s ${label}`).join(', ')}.`);
  }
  for (const note of setup) {
    lines.push('', `${note}.`);
  }
  const scaled = rows.filter((row) => row.workers > 1);
  if (scaled.length > 0) {
    lines.push(
      '',
      'Every core: the same scenario with WORKERS=n against WORKERS=1 in the same run (the framework ceilings run with as many worker processes):',
      '',
      '| Database | Scenario | Conn. | Workers | Service req/s (applied/s) 1 → n | Service ratio | Framework req/s 1 → n | Framework ratio | Target |',
      '|---|---|---:|---:|---:|---:|---:|---:|---|',
    );
    for (const row of scaled) {
      const one = rows.find((other) => other.workers === 1 && other.dialect === row.dialect && other.scenario === row.scenario && other.connections === row.connections);
      if (one === undefined) {
        continue;
      }
      const figure = (measurement: Measurement) => (row.scenario === 'get-level' ? measurement.requestsPerSecond : measurement.appliedPerSecond);
      const ratio = figure(row.service) / figure(one.service);
      const target = row.scenario === 'get-level' || row.scenario === 'update-many' ? (row.dialect === 'sqlite' ? 1.4 : 1.3) : undefined;
      const frameworkRatio = row.framework !== undefined && one.framework !== undefined ? row.framework.requestsPerSecond / one.framework.requestsPerSecond : undefined;
      lines.push(
        `| ${row.dialect} | ${row.scenario} | ${row.connections} | ${row.workers} | ${format(figure(one.service))} → ${format(figure(row.service))} | ×${format(ratio, 2)} | ` +
          `${one.framework === undefined || row.framework === undefined ? '–' : `${format(one.framework.requestsPerSecond)} → ${format(row.framework.requestsPerSecond)}`} | ${frameworkRatio === undefined ? '–' : `×${format(frameworkRatio, 2)}`} | ` +
          `${target === undefined ? '' : ratio >= target ? `met (≥ ×${target})` : `missed (≥ ×${target})`} |`,
      );
    }
  }
  const pageRows = rows.filter((row) => row.reference !== undefined);
  if (pageRows.length > 0) {
    lines.push(
      '',
      'Chain reads against get-level (a random level) on the same chain service, interleaved; latencies timed by the harness, ms:',
      '',
      '| Database | Scenario | Conn. | Page req/s | get-level req/s | Page p50 / p99 | get-level p50 / p99 | p50 ratio | p99 ratio | Service CPU µs per request, page / get-level | Harness CPU µs per request, page / get-level |',
      '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const row of pageRows) {
      const reference = row.reference!;
      lines.push(
        `| ${row.dialect} | ${row.scenario} | ${row.connections} | ${format(row.service.requestsPerSecond)} | ${format(reference.requestsPerSecond)} | ` +
          `${format(row.service.latency.p50, 2)} / ${format(row.service.latency.p99, 2)} | ${format(reference.latency.p50, 2)} / ${format(reference.latency.p99, 2)} | ` +
          `${format(row.service.latency.p50 / reference.latency.p50, 2)} | ${format(row.service.latency.p99 / reference.latency.p99, 2)} | ` +
          `${format(row.service.cpuPerRequest.service ?? Number.NaN)} / ${format(reference.cpuPerRequest.service ?? Number.NaN)} | ${format(row.service.cpuPerRequest.client)} / ${format(reference.cpuPerRequest.client)} |`,
      );
    }
  }
  const streamRows = rows.filter((row) => row.streams !== undefined);
  if (streamRows.length > 0) {
    lines.push(
      '',
      'Change streams (applied/s: the same load without streams, then with them; delivery: from a change’s createdAt to its receipt by the last stream that should get it):',
      '',
      '| Database | Scenario | Streams (unscoped) | Feed tail | Applied/s without → with streams | Service CPU ms per update without → with | Delivery p50 / p99 / max ms | Changes | Events received | Undelivered / unexpected | Feed reads per commit | Streams opened in | Stream client busy |',
      '|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const row of streamRows) {
      const streams = row.streams!;
      const delivery = streams.delivery;
      lines.push(
        `| ${row.dialect} | ${row.scenario} | ${format(streams.streams)} (${format(streams.unscoped)}) | ${streams.tail ? 'on' : 'off'} | ${format(streams.withoutStreams.appliedPerSecond)} → ${format(row.service.appliedPerSecond)} | ` +
          `${format(streams.cpuPerUpdate.without, 2)} → ${format(streams.cpuPerUpdate.with, 2)} | ` +
          `${format(delivery.p50)} / ${format(delivery.p99)} / ${format(delivery.max)} | ${format(delivery.changes)} | ${format(delivery.deliveries)} | ${delivery.undelivered} / ${delivery.unexpected} | ${format(streams.readsPerCommit, 2)} | ${format(streams.openMs / 1000, 1)} s | ${percent(streams.clientBusy)} |`,
      );
    }
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
  const rows: Row[] = [];
  const storage: Record<string, Record<string, number>> = {};
  /** What preparing the services took (seeding the chain, writing history), for the results. */
  const setup: string[] = [];
  for (const workers of options.workers) {
    await runWith(workers, options, rows, storage, setup);
  }
  const rendered = table(rows, storage, setup);
  console.log(`\n${rendered}\n`);
  console.log(`machine: ${host.cores as number} cores (${String(host.cpu)}), Node ${String(host.node)}, commit ${String(host.commit)}; ${options.runs} run(s) of ${options.seconds} s per figure, medians.`);
  const directory = join(ROOT, 'bench', 'results');
  mkdirSync(directory, { recursive: true });
  const name = `${started.toISOString().replace(/[:.]/g, '-')}${options.quick ? '-quick' : ''}`;
  const rowsWithRatios = rows.map((row) => ({ ...row, ratios: ratiosOf(row, rows).map((ratio) => ({ ...ratio, verdict: verdict(ratio) })) }));
  writeFileSync(join(directory, `${name}.json`), `${JSON.stringify({ started, options, machine: host, storage, setup, rows: rowsWithRatios }, null, 2)}\n`);
  writeFileSync(join(directory, `${name}.md`), `${rendered}\n`);
  console.log(`results: bench/results/${name}.json`);
}

/** Every scenario of `options` on each database, with the service and the framework ceilings at `workers` processes. */
async function runWith(workers: number, options: Options, rows: Row[], storage: Record<string, Record<string, number>>, setup: string[]): Promise<void> {
  const framework = await startBaseline('framework (NestJS, no-op)', 'nest-bare.ts', [], workers);
  const http = await startBaseline('http (node:http)', 'node-http.ts', [], workers);
  try {
    for (const dialect of options.dialects) {
      if (storage[dialect] === undefined) {
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
      }

      // Scenarios with settings of their own get a service and a database of their own (one per
      // distinct settings: list-page and history-page share the chain's).
      const scenarios = SCENARIOS.filter((scenario) => options.scenarios.includes(scenario.name));
      const groups = new Map<string, Scenario[]>();
      for (const scenario of scenarios) {
        const key = scenario.env === undefined ? '' : JSON.stringify(scenario.env);
        groups.set(key, [...(groups.get(key) ?? []), scenario]);
      }
      for (const group of groups.values()) {
        const store = await createStore(dialect);
        try {
          const startedAt = Date.now();
          // Seeding the chain (a million levels by default) takes a while before the service is ready.
          const service = await startService(store, { WORKERS: String(workers), ...group[0].env }, [], group[0].env?.SEED_DEMO === 'chain' ? 600_000 : 60_000);
          if (group[0].env?.SEED_DEMO === 'chain') {
            setup.push(
              `Chain service (${dialect}): ${format(CHAIN_SEED.stores)} stores × ${format(CHAIN_SEED.products)} products = ${format(CHAIN_SEED.stores * CHAIN_SEED.products)} levels seeded, ready in ${format((Date.now() - startedAt) / 1000, 1)} s`,
            );
            console.error(`  ${setup[setup.length - 1]}`);
          }
          try {
            for (const scenario of group) {
              await createLevels(service.url, [...new Set(options.connections.flatMap((connections) => scenario.products(connections)))], scenario.storeOf);
            }
            for (const scenario of group) {
              if (scenario.prepare !== undefined) {
                setup.push(`${scenario.name} (${dialect}): ${await scenario.prepare(service.url)}`);
                console.error(`  ${setup[setup.length - 1]}`);
              }
            }
            for (const scenario of group) {
              if (scenario.streams !== undefined) {
                rows.push(await runStreamScenario(scenario, Math.max(...options.connections), service, options, dialect));
                continue;
              }
              for (const connections of options.connections) {
                rows.push(await runScenario(scenario, connections, { service, framework, http }, options, dialect, workers));
              }
            }
          } finally {
            await service.stop();
          }
        } finally {
          await store.dispose();
        }
      }
    }
  } finally {
    await framework.stop();
    await http.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
