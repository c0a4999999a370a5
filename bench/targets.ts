import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';

export const ROOT = join(__dirname, '..');
// The service runs with NODE_ENV=production, which refuses keys shorter than 20 characters.
export const BENCH_API_KEY = `bench-${randomBytes(16).toString('hex')}`;
export const BENCH_ADMIN_KEY = `bench-admin-${randomBytes(16).toString('hex')}`;

/** A server under test, in a process of its own so it never shares a core's event loop with the load. */
export interface Target {
  readonly name: string;
  readonly url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function stopper(child: ChildProcess, cleanup: () => Promise<void> | void = () => undefined): () => Promise<void> {
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(forced);
    }
    await cleanup();
  };
}

/** Starts a baseline script that prints "ready <port>", in `workers` processes sharing the port (as WORKERS does the service). */
export async function startBaseline(name: string, script: string, nodeArgs: readonly string[] = [], workers = 1): Promise<Target> {
  const child = spawn(process.execPath, [...nodeArgs, '-r', 'ts-node/register/transpile-only', join(ROOT, 'bench', 'baselines', script)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, NODE_ENV: 'production', PORT: '0', WORKERS: String(workers) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /ready (\d+)/.exec(output);
      if (match !== null) {
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
  return { name, url: `http://127.0.0.1:${port}`, stop: stopper(child) };
}

export interface Store {
  readonly env: Record<string, string>;
  readonly dialect: 'sqlite' | 'postgres';
  dispose(): Promise<void>;
}

/** A fresh store: a temporary SQLite directory, or a new PostgreSQL database (when DATABASE_URL is given). */
export async function createStore(dialect: 'sqlite' | 'postgres'): Promise<Store> {
  const dataDir = mkdtempSync(join(tmpdir(), 'inventory-bench-'));
  if (dialect === 'sqlite') {
    return { dialect, env: { DATA_DIR: dataDir }, dispose: () => Promise.resolve(rmSync(dataDir, { recursive: true, force: true })) };
  }
  const adminUrl = process.env.DATABASE_URL!;
  const name = `inventory_bench_${randomBytes(5).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    dialect,
    env: { DATA_DIR: dataDir, DATABASE_URL: url.toString() },
    dispose: async () => {
      rmSync(dataDir, { recursive: true, force: true });
      const client = new Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`drop database if exists "${name}" with (force)`);
      await client.end();
    },
  };
}

/** Builds the service once, as it is deployed (compiled JavaScript from dist/). */
export function buildService(): void {
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
}

/** Starts the service on a store, with its default configuration except rate limiting. */
export async function startService(store: Store, extraEnv: Record<string, string> = {}, nodeArgs: readonly string[] = [], readyWithinMs = 60_000): Promise<Target> {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'dist', 'main.js')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      ...store.env,
      PORT: String(port),
      API_KEYS: `${BENCH_API_KEY}:*,${BENCH_ADMIN_KEY}:admin`,
      SEED_DEMO: 'false',
      // A benchmark is one client hammering the service: the per-key limit would measure itself.
      RATE_LIMIT_PER_SECOND: '0',
      ...extraEnv,
    },
    // Logs are written as in production (JSON lines at info), to /dev/null.
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + readyWithinMs;
  for (;;) {
    try {
      if ((await fetch(`${url}/health/ready`)).ok) {
        break;
      }
    } catch {
      // not yet listening
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error('the service did not become ready');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { name: `service (${store.dialect})`, url, stop: stopper(child) };
}

/** Runs the storage-ceiling loop in its own process; returns transactions per second. */
export async function measureStorage(store: Store, durationMs: number, connections: number): Promise<number> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(ROOT, 'bench', 'baselines', 'storage.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...store.env, DURATION_MS: String(durationMs), CONNECTIONS: String(connections) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise((resolve) => child.once('exit', resolve));
  const match = /result (\{.*\})/.exec(output);
  if (match === null) {
    throw new Error(`storage ceiling printed no result: ${output}`);
  }
  return (JSON.parse(match[1]) as { perSecond: number }).perSecond;
}
