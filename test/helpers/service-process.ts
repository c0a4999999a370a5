import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { waitFor } from './wait';

const ROOT = join(__dirname, '..', '..');

export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly url: string;
  /** Every line printed so far on stdout and stderr. */
  readonly output: string[];
  /** Resolves with the exit code (or signal) once the process has ended and all it printed is in `output`. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface SpawnOptions {
  /** Wait until it serves HTTP (default true). */
  readonly waitReady?: boolean;
  /** Modules loaded (`-r`) into the process before the service, after the TypeScript loader. */
  readonly preload?: readonly string[];
  /** Open an IPC channel to the process (child.send / 'message'), for test instrumentation. */
  readonly ipc?: boolean;
  /** How long it may take to serve HTTP before the start counts as failed (default 90 s). */
  readonly startTimeoutMs?: number;
}

/**
 * Runs the service as a real OS process (the TypeScript entry point, transpiled on the fly),
 * so tests can send it signals, kill it and read what it logs.
 */
export async function spawnService(env: Record<string, string>, options: SpawnOptions = {}): Promise<ServiceProcess> {
  const port = env.PORT !== undefined ? Number(env.PORT) : await freePort();
  const preloads = ['ts-node/register/transpile-only', ...(options.preload ?? [])].flatMap((module) => ['-r', module]);
  const child = spawn(process.execPath, [...preloads, join(ROOT, 'src', 'main.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, LOG_LEVEL: 'info', ...env, PORT: String(port) },
    stdio: options.ipc === true ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  // A chunk may end in the middle of a line: the rest of it comes with the next chunk.
  const collector = () => {
    let partial = '';
    return (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop()!;
      output.push(...lines.filter((line) => line.length > 0));
    };
  };
  child.stdout!.on('data', collector());
  child.stderr!.on('data', collector());
  // 'close', not 'exit': 'exit' may come before the last lines the process printed have been
  // read from its pipes, and a test reading `output` then would miss them.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  const service: ServiceProcess = {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    output,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
      }
      return exited;
    },
  };
  if (options.waitReady !== false) {
    await waitUntilServing(service, options.startTimeoutMs);
  }
  return service;
}

/** Transpiling and starting takes seconds on an idle machine, several times that on a busy one. */
async function waitUntilServing(service: ServiceProcess, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let ended = false;
  void service.exited.then(() => (ended = true));
  while (Date.now() < deadline && !ended) {
    try {
      const response = await fetch(`${service.url}/docs-json`);
      if (response.ok) {
        return;
      }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await service.stop('SIGKILL');
  throw new Error(`service did not start:\n${service.output.join('\n')}`);
}

/**
 * Starts several services at the same moment. If any fails to start, the others are stopped
 * too, so no process outlives the test.
 */
export async function spawnServices(count: number, env: Record<string, string>, options: SpawnOptions = {}): Promise<ServiceProcess[]> {
  const started = await Promise.allSettled(Array.from({ length: count }, () => spawnService(env, options)));
  const services = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failure = started.find((result) => result.status === 'rejected');
  if (failure !== undefined) {
    await Promise.all(services.map((service) => service.stop('SIGKILL')));
    throw failure.reason;
  }
  return services;
}

/** Resolves with the first JSON log line (from `from` on) that `matches`; rejects after `timeoutMs`. */
export function waitForLogLine(
  service: ServiceProcess,
  what: string,
  matches: (line: Record<string, unknown>) => boolean,
  { from = 0, timeoutMs = 15_000 }: { from?: number; timeoutMs?: number } = {},
): Promise<Record<string, unknown>> {
  return waitFor(`log line: ${what}`, () => jsonLines(service.output, from).find(matches), { timeoutMs });
}

/** Each output's lines parsed so far, index for index (undefined: not JSON). */
const parsedOutputs = new WeakMap<readonly string[], Array<Record<string, unknown> | undefined>>();

/**
 * Parses the JSON log lines (from line `from` on), skipping anything that is not JSON. Tests poll
 * this many times a second while a service logs thousands of lines: each line is parsed once.
 */
export function jsonLines(output: readonly string[], from = 0): Array<Record<string, unknown>> {
  const parsed = parsedOutputs.get(output) ?? [];
  parsedOutputs.set(output, parsed);
  for (let index = parsed.length; index < output.length; index += 1) {
    parsed.push(parseLine(output[index]));
  }
  return parsed.slice(from).filter((line) => line !== undefined);
}

function parseLine(line: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(line);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
