/**
 * Where a request's CPU time goes: `npm run bench:profile -- <scenario> [--connections=64] [--seconds=10]`
 * (PostgreSQL when DATABASE_URL is set, else SQLite; a stream scenario holds `--streams=2000` open).
 *
 * Runs one scenario against the service and against the framework ceiling (b), each process under
 * V8's CPU profiler (`--cpu-prof`), and prints the CPU microseconds per request spent in each
 * stage of the request path, counted over the measured window only (start-up, level creation and
 * warm-up excluded). Each sample is charged to the innermost frame that belongs to a known stage,
 * so Node's own work (sockets, header writing, timers) is charged to whoever asked for it. The
 * raw profiles are kept under bench/results/profiles/ for Chrome DevTools or speedscope.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLevels, feedHead, type Measurement, measure, type ScenarioName, SCENARIOS } from './scenarios';
import { StreamClients } from './streams';
import { BENCH_API_KEY, buildService, createStore, ROOT, startBaseline, startService, type Target } from './targets';

/** Stages of the request path, by the source file a frame comes from. Order decides ties within a frame. */
const STAGES: ReadonlyArray<readonly [string, RegExp]> = [
  ['SQLite (better-sqlite3)', /better-sqlite3|sqlite-statement-cache/],
  ['PostgreSQL driver (pg)', /node_modules\/(pg|pg-protocol|pg-pool|pg-types|pgpass|postgres-[a-z]+)\//],
  ['query builder (Kysely)', /node_modules\/kysely\//],
  ['request logging (pino, context)', /node_modules\/(pino|pino-std-serializers|nestjs-pino|sonic-boom|@pinojs\/[a-z-]+)\/|\/common\/logging/],
  ['security headers', /node_modules\/helmet\/|\/common\/http\/security-headers/],
  ['metrics (prom-client)', /node_modules\/prom-client\/|\/dist\/metrics\//],
  ['validation (class-validator)', /node_modules\/(class-validator|class-transformer|validator|libphonenumber-js)\/|update-request\.pipe|\/common\/http\/validation/],
  ['API keys and rate limits', /\/common\/auth\/|node_modules\/@nestjs\/throttler\//],
  ['idempotency (fast path, fingerprint, cache)', /\/dist\/idempotency\//],
  ['update queue and decisions', /\/inventory\/(update-processor|group-plan|inventory\.service|domain\/)|\/reservations\/(reservations\.service|domain\/)/],
  ['RxJS (the queue)', /node_modules\/rxjs\//],
  ['repository (SQL parameters, rows)', /\/(inventory|reservations|changes)\/persistence\//],
  ['body parsing', /json-body|node_modules\/(body-parser|raw-body|iconv-lite)\//],
  ['controllers and answers', /\/inventory\/(inventory\.controller|update-response|dto\/)|\/reservations\/(reservations\.controller|reservation-response|dto\/)|\/changes\/(changes\.controller|dto\/)|\/bench\/baselines\//],
  ['NestJS pipeline (guards, pipes, interceptors, filters)', /node_modules\/@nestjs\//],
  ['Express (routing, res.json)', /node_modules\/(express|router|path-to-regexp|finalhandler|send|parseurl|qs|content-type|type-is|accepts|mime-types|mime-db|on-finished|vary|etag|fresh)\//],
  ['change feed (notifier, tail, streams)', /\/dist\/changes\//],
];
const RUNTIME = 'Node.js (HTTP parser, sockets, promises, runtime)';
const GC = 'garbage collection';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** CPU microseconds by stage within [from, to] (microseconds on the monotonic clock the profiler uses). */
function stagesOf(profile: CpuProfile, from: number, to: number): Map<string, number> {
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) {
      parent.set(child, node.id);
    }
  }
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const stageOfNode = new Map<number, string | undefined>();
  const stageOf = (id: number): string | undefined => {
    if (stageOfNode.has(id)) {
      return stageOfNode.get(id);
    }
    const { functionName, url } = nodes.get(id)!.callFrame;
    let stage: string | undefined;
    if (functionName === '(idle)') {
      stage = 'idle';
    } else if (functionName === '(garbage collector)') {
      stage = GC;
    } else {
      stage = STAGES.find(([, pattern]) => pattern.test(url))?.[0];
      if (stage === undefined) {
        const up = parent.get(id);
        stage = up === undefined ? undefined : stageOf(up);
      }
    }
    stageOfNode.set(id, stage);
    return stage;
  };
  const totals = new Map<string, number>();
  let time = profile.startTime;
  profile.samples.forEach((id, index) => {
    time += profile.timeDeltas[index];
    if (time < from || time > to) {
      return;
    }
    const stage = stageOf(id) ?? RUNTIME;
    if (stage !== 'idle') {
      totals.set(stage, (totals.get(stage) ?? 0) + profile.timeDeltas[index]);
    }
  });
  return totals;
}

interface Profiled {
  readonly measurement: Measurement;
  readonly requests: number;
  readonly stages: Map<string, number>;
}

const nowMicros = () => Number(process.hrtime.bigint() / 1000n);

async function profileTarget(start: (nodeArgs: string[]) => Promise<Target>, directory: string, scenarioName: ScenarioName, connections: number, seconds: number): Promise<Profiled> {
  mkdirSync(directory, { recursive: true });
  const target = await start(['--cpu-prof', `--cpu-prof-dir=${directory}`]);
  const scenario = SCENARIOS.find((candidate) => candidate.name === scenarioName)!;
  let window: { from: number; to: number };
  let measurement: Measurement;
  try {
    const load = scenario.load(connections, `profile-${Date.now()}`);
    await measure(target.url, load, connections, 2, 'warm-up');
    const from = nowMicros();
    measurement = await measure(target.url, load, connections, seconds);
    window = { from, to: from + seconds * 1_000_000 };
  } finally {
    await target.stop();
  }
  const file = readdirSync(directory).find((name) => name.endsWith('.cpuprofile'));
  if (file === undefined) {
    throw new Error(`no CPU profile written in ${directory}`);
  }
  const profile = JSON.parse(readFileSync(join(directory, file), 'utf8')) as CpuProfile;
  const stages = stagesOf(profile, window.from, window.to);
  if (stages.size === 0) {
    throw new Error(`the profile in ${directory} has no samples in the measured window`);
  }
  return { measurement, requests: measurement.requestsPerSecond * seconds, stages };
}

function table(framework: Profiled, service: Profiled): string {
  const perRequest = (profiled: Profiled, stage: string) => (profiled.stages.get(stage) ?? 0) / profiled.requests;
  const names = [...STAGES.map(([name]) => name), RUNTIME, GC];
  const format = (value: number) => value.toLocaleString('en-US', { maximumFractionDigits: 0 });
  const lines = ['| Stage | Framework µs/request | Service µs/request |', '|---|---:|---:|'];
  for (const name of names) {
    const [ours, theirs] = [perRequest(service, name), perRequest(framework, name)];
    if (ours >= 0.5 || theirs >= 0.5) {
      lines.push(`| ${name} | ${format(theirs)} | ${format(ours)} |`);
    }
  }
  const total = (profiled: Profiled) => [...profiled.stages.values()].reduce((sum, value) => sum + value, 0) / profiled.requests;
  lines.push(`| **CPU per request** | **${format(total(framework))}** | **${format(total(service))}** |`);
  lines.push(`| requests/s during the profile | ${format(framework.measurement.requestsPerSecond)} | ${format(service.measurement.requestsPerSecond)} |`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const flag = (name: string) => argv.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1];
  const scenarioName = (argv.find((arg) => !arg.startsWith('--')) ?? 'get-level') as ScenarioName;
  const scenario = SCENARIOS.find((candidate) => candidate.name === scenarioName);
  if (scenario === undefined) {
    throw new Error(`unknown scenario ${scenarioName}; one of ${SCENARIOS.map((candidate) => candidate.name).join(', ')}`);
  }
  const connections = Number(flag('connections') ?? 64);
  const seconds = Number(flag('seconds') ?? 10);
  const dialect = process.env.DATABASE_URL === undefined ? 'sqlite' : 'postgres';
  const directory = join(ROOT, 'bench', 'results', 'profiles', `${new Date().toISOString().replace(/[:.]/g, '-')}-${dialect}-${scenarioName}-${connections}`);
  console.error(`profiling ${scenarioName} at ${connections} connections for ${seconds} s on ${dialect} …`);
  buildService();

  const framework = await profileTarget((nodeArgs) => startBaseline('framework (NestJS, no-op)', 'nest-bare.ts', nodeArgs), join(directory, 'framework'), scenarioName, connections, seconds);
  const store = await createStore(dialect);
  // A stream scenario's streams (`--streams=`, 2,000 by default) stay open through the service's profile.
  let streams: StreamClients | undefined;
  let service: Profiled;
  try {
    service = await profileTarget(
      async (nodeArgs) => {
        // The chain's page scenarios: a service seeding the chain (minutes of CPU before the window).
        const target = await startService(store, scenario.env ?? {}, nodeArgs, scenario.env === undefined ? undefined : 600_000);
        await createLevels(target.url, scenario.products(connections), scenario.storeOf);
        const prepared = await scenario.prepare?.(target.url);
        if (prepared !== undefined) {
          console.error(prepared);
        }
        if (scenario.streams !== undefined) {
          const setup = scenario.streams(Number(flag('streams') ?? 2000));
          streams = await StreamClients.open({ url: target.url, apiKey: BENCH_API_KEY, after: await feedHead(target.url), ...setup });
          console.error(`${setup.scoped + setup.unscoped} streams open`);
        }
        return target;
      },
      join(directory, 'service'),
      scenarioName,
      connections,
      seconds,
    );
  } finally {
    await streams?.drain(0, 0);
    await store.dispose();
  }
  const rendered = `${dialect}, ${scenarioName}, ${connections} connections, ${seconds} s\n\n${table(framework, service)}\n`;
  console.log(`\n${rendered}`);
  writeFileSync(join(directory, 'summary.md'), rendered);
  console.log(`profiles: ${directory}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
