import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { StoreReplica } from '../../examples/store-replica';
import { DEMO_LEVELS } from '../../src/database/demo-data';
import { createTestStore, type TestStore } from '../helpers/dialect';
import { withDatabase } from '../helpers/direct-database';
import { seededRandom } from '../helpers/load';
import { type ServiceProcess, spawnService } from '../helpers/service-process';
import { LOADED_MACHINE_TIMEOUT_MS, waitFor } from '../helpers/wait';

const ROOT = join(__dirname, '..', '..');
const HEADERS = { 'X-API-Key': 'demo', 'Content-Type': 'application/json' };
const PRODUCTS = DEMO_LEVELS.map((level) => level.productId);
const WRITERS = 6;
/** Every change stays in the ledger, so each level can be recomputed from its start. */
const SERVICE_ENV = { API_KEYS: 'demo:*,ops:admin', LOG_LEVEL: 'warn', RATE_LIMIT_PER_SECOND: '0', LEDGER_RETENTION: 'off' };

interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the backup command (its TypeScript source, as `npm run backup` runs its build) with only `env`. */
function runBackup(env: Record<string, string>, target: string): Promise<CliRun> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(ROOT, 'src', 'database', 'backup-cli.ts'), target], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** An update the service acknowledged: what was sent, what it answered, and when. */
interface Acknowledged {
  readonly key: string;
  readonly request: string;
  readonly answer: unknown;
  readonly sentAt: number;
  readonly ackedAt: number;
}

/**
 * Point-of-sale clients on store-1: read a level, send a delta at its version with a new key;
 * conflicts and insufficient stock are normal answers under contention (and apply nothing).
 */
function startWriters(url: string) {
  const acknowledged: Acknowledged[] = [];
  const unexpected: string[] = [];
  let running = true;
  const writers = Array.from({ length: WRITERS }, async (_, writer) => {
    const random = seededRandom(7000 + writer);
    for (let attempt = 1; running; attempt += 1) {
      const productId = PRODUCTS[Math.floor(random() * PRODUCTS.length)];
      const level = await fetch(`${url}/v1/stores/store-1/inventory/${productId}`, { headers: HEADERS });
      const { version } = (await level.json()) as { version: number };
      const delta = random() < 0.7 ? 1 + Math.floor(random() * 5) : -1 - Math.floor(random() * 3);
      const key = `backup-w${writer}-${attempt}`;
      const request = JSON.stringify({ storeId: 'store-1', productId, delta, version, idempotencyKey: key });
      const sentAt = Date.now();
      const response = await fetch(`${url}/v1/inventory/updates`, { method: 'POST', headers: HEADERS, body: request });
      const text = await response.text();
      if (response.status === 200) {
        acknowledged.push({ key, request, answer: JSON.parse(text), sentAt, ackedAt: Date.now() });
      } else if (!(response.status === 409 && /"code":"(VERSION_CONFLICT|INSUFFICIENT_STOCK)"/.test(text))) {
        unexpected.push(`${response.status} ${text}`);
      }
    }
  });
  return {
    acknowledged,
    unexpected,
    stop: async () => {
      running = false;
      await Promise.all(writers);
    },
  };
}

/** A store of the restored copy, for reading it directly. */
function storeAt(dataDir: string): TestStore {
  return { env: { DATA_DIR: dataDir }, dataDir, dispose: () => Promise.resolve() };
}

async function centralLevels(url: string): Promise<Map<string, { quantity: number; version: number }>> {
  const response = await fetch(`${url}/v1/stores/store-1/inventory?limit=500`, { headers: HEADERS });
  expect(response.status).toBe(200);
  const { items } = (await response.json()) as { items: Array<{ productId: string; quantity: number; version: number }> };
  return new Map(items.map(({ productId, quantity, version }) => [productId, { quantity, version }]));
}

function replicaLevels(replica: StoreReplica): Map<string, { quantity: number; version: number }> {
  return new Map([...replica.levels].map(([productId, { quantity, version }]) => [productId, { quantity, version }]));
}

const sorted = (levels: Map<string, unknown>) => JSON.stringify([...levels].sort(([a], [b]) => a.localeCompare(b)));

async function converge(replica: StoreReplica, url: string): Promise<void> {
  const central = await centralLevels(url);
  await waitFor('the replica to equal the service’s levels', () => sorted(replicaLevels(replica)) === sorted(central), { timeoutMs: 30_000 }).catch(() =>
    expect(replicaLevels(replica)).toEqual(central),
  );
}

// The backup command copies the embedded SQLite database; with PostgreSQL (DATABASE_URL) it refuses
// and points to pg_dump, so this suite runs on SQLite only (test/sqlite/), that refusal included.
describe('npm run backup (online copy of the SQLite database)', () => {
  let dir: string;
  let store: TestStore;
  const services: ServiceProcess[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'backup-'));
    store = await createTestStore('sqlite');
  });

  afterAll(async () => {
    await Promise.all(services.map((service) => service.stop('SIGKILL')));
    await store.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies the database while updates commit; the copy restores to a consistent service that replays every earlier key', async () => {
    const original = await spawnService({ ...store.env, ...SERVICE_ENV });
    services.push(original);
    // A reader that holds its snapshot from before the load (as a long report would) keeps the
    // checkpoints from moving the load's commits into the database file: they are only in the
    // write-ahead log, and a copy must take them from there.
    const reader = new BetterSqlite3(join(store.dataDir, 'inventory.db'));
    reader.exec('begin');
    expect(reader.prepare('select count(*) as rows from ledger').get()).toEqual({ rows: 0 });
    const stateFile = join(dir, 'replica.json');
    const replica = new StoreReplica({ baseUrl: original.url, apiKey: 'demo', storeId: 'store-1', stateFile, waitSeconds: 1 });
    void replica.start();
    const backupFile = join(dir, 'inventory-copy.db');
    const writers = startWriters(original.url);
    let before: Acknowledged[];
    let backup: CliRun;
    let backupStartedAt: number;
    let backupEndedAt: number;
    let backupSeq: number;
    try {
      await waitFor('updates before the backup', () => writers.acknowledged.length >= 100, { timeoutMs: 60_000 });
      // Every update in the list now was acknowledged before the backup starts.
      before = [...writers.acknowledged];
      backupStartedAt = Date.now();
      backup = await runBackup({ DATA_DIR: store.dataDir }, backupFile);
      backupEndedAt = Date.now();
      expect({ code: backup.code, stderr: backup.stderr }).toEqual({ code: 0, stderr: '' });
      const written = JSON.parse(backup.stdout.trim()) as { msg: string; file: string; lastSeq: number; levels: number };
      expect(written).toMatchObject({ msg: 'backup written', file: backupFile, levels: PRODUCTS.length });
      backupSeq = written.lastSeq;
      // Updates go on after the backup, and the replica follows the original past the copy's last change.
      const ended = backupEndedAt;
      await waitFor(
        'the replica to follow the original past the copy',
        () => replica.lastSeq > backupSeq + 20 && writers.acknowledged.some((ack) => ack.sentAt > ended),
        { timeoutMs: 60_000 },
      );
    } finally {
      await writers.stop();
      await replica.stop();
      reader.exec('commit');
      reader.close();
    }
    expect(writers.unexpected).toEqual([]);
    // Updates went on committing while the backup ran.
    const during = writers.acknowledged.filter((ack) => ack.sentAt > backupStartedAt && ack.ackedAt < backupEndedAt);
    expect(during.length).toBeGreaterThan(0);
    const after = writers.acknowledged.filter((ack) => ack.sentAt > backupEndedAt);
    expect(after.length).toBeGreaterThan(0);
    expect(await original.stop()).toEqual({ code: 0, signal: null });

    // Restore: the copy becomes the database of a new data directory.
    const restoredDir = mkdtempSync(join(dir, 'restored-'));
    copyFileSync(backupFile, join(restoredDir, 'inventory.db'));
    const restored = await spawnService({ DATA_DIR: restoredDir, ...SERVICE_ENV });
    services.push(restored);

    const { levels, ledger, head, floor } = await withDatabase(storeAt(restoredDir), async ({ db }) => ({
      levels: await db.selectFrom('stock_levels').selectAll().orderBy('store_id').orderBy('product_id').execute(),
      ledger: await db.selectFrom('ledger').selectAll().orderBy('seq').execute(),
      head: (await db.selectFrom('ledger_head').select('last_seq').executeTakeFirstOrThrow()).last_seq,
      floor: (await db.selectFrom('ledger_floor').select('pruned_through').executeTakeFirstOrThrow()).pruned_through,
    }));
    // The copy is one point in time: the ledger is whole up to its head, which is the head the command reported.
    expect([head, floor]).toEqual([backupSeq, 0]);
    expect(ledger.map((row) => row.seq)).toEqual(Array.from({ length: head }, (_, index) => index + 1));
    // Every level is its newest ledger entry, and its starting stock plus all its deltas.
    expect(levels.map((level) => level.product_id)).toEqual(PRODUCTS);
    for (const level of levels) {
      const start = DEMO_LEVELS.find((demo) => demo.productId === level.product_id)!;
      const entries = ledger.filter((row) => row.store_id === level.store_id && row.product_id === level.product_id);
      const newest = entries[entries.length - 1];
      expect({ product: level.product_id, quantity: level.quantity, version: level.version }).toEqual({
        product: level.product_id,
        quantity: newest?.quantity_after ?? start.quantity,
        version: newest?.version_after ?? start.version,
      });
      expect(level.quantity).toBe(start.quantity + entries.reduce((sum, row) => sum + row.delta, 0));
      expect(level.version).toBe(start.version + entries.length);
    }
    // What was acknowledged before the backup is in it; what was sent after it finished is not.
    const keys = new Set(ledger.map((row) => row.idempotency_key));
    expect(before.filter((ack) => !keys.has(ack.key)).map((ack) => ack.key)).toEqual([]);
    expect(after.filter((ack) => keys.has(ack.key)).map((ack) => ack.key)).toEqual([]);
    // The restored service serves these levels.
    expect(sorted(await centralLevels(restored.url))).toBe(sorted(new Map(levels.map((level) => [level.product_id, { quantity: level.quantity, version: level.version }]))));

    // Every key acknowledged before the backup started replays its answer, and applies nothing again.
    const notReplayed: string[] = [];
    for (let index = 0; index < before.length; index += 4) {
      await Promise.all(
        before.slice(index, index + 4).map(async (ack) => {
          const response = await fetch(`${restored.url}/v1/inventory/updates`, { method: 'POST', headers: HEADERS, body: ack.request });
          const text = await response.text();
          const same = response.status === 200 && response.headers.get('idempotent-replayed') === 'true' && JSON.stringify(JSON.parse(text)) === JSON.stringify(ack.answer);
          if (!same && notReplayed.length < 5) {
            notReplayed.push(`${ack.key}: ${response.status} ${response.headers.get('idempotent-replayed')} ${text}`);
          }
        }),
      );
    }
    expect(notReplayed).toEqual([]);
    expect(before.length).toBeGreaterThanOrEqual(100);

    // The replica saved a position beyond the restored feed's head: the feed refuses it (409), and it starts again from a snapshot.
    expect((JSON.parse(readFileSync(stateFile, 'utf8')) as { lastSeq: number }).lastSeq).toBeGreaterThan(backupSeq);
    const ahead = await fetch(`${restored.url}/v1/changes?storeId=store-1&after=${backupSeq + 1}`, { headers: HEADERS });
    expect(ahead.status).toBe(409);
    expect(await ahead.json()).toMatchObject({ code: 'FEED_POSITION_AHEAD', lastSeq: backupSeq });
    const log: string[] = [];
    const resumed = new StoreReplica({ baseUrl: restored.url, apiKey: 'demo', storeId: 'store-1', stateFile, waitSeconds: 1, log: (line) => log.push(line) });
    void resumed.start();
    try {
      await converge(resumed, restored.url);
      expect(resumed.snapshots).toBe(1);
      expect(log).toEqual(expect.arrayContaining([expect.stringMatching(/^the feed refused position \d+ \(FEED_POSITION_AHEAD: .*replacing the copy with a fresh snapshot$/)]));
      expect(resumed.lastSeq).toBe(backupSeq);
      // It follows the restored feed from there: the next change (a seq the original gave to another change) arrives.
      const { version } = (await (await fetch(`${restored.url}/v1/stores/store-1/inventory/SKU-001`, { headers: HEADERS })).json()) as { version: number };
      const bump = await fetch(`${restored.url}/v1/inventory/updates`, {
        method: 'POST',
        headers: HEADERS,
        body: JSON.stringify({ storeId: 'store-1', productId: 'SKU-001', delta: 1, version, idempotencyKey: 'after-restore' }),
      });
      expect(bump.status).toBe(200);
      await waitFor('the replica to follow the restored feed', () => resumed.lastSeq === backupSeq + 1, { timeoutMs: 30_000 });
      await converge(resumed, restored.url);
      expect(resumed.snapshots).toBe(1);
    } finally {
      await resumed.stop();
    }
    expect(await restored.stop()).toEqual({ code: 0, signal: null });
  }, LOADED_MACHINE_TIMEOUT_MS);

  it('refuses to write over an existing file', async () => {
    const service = await spawnService({ ...store.env, ...SERVICE_ENV });
    services.push(service);
    const existing = join(dir, 'existing.db');
    writeFileSync(existing, 'an earlier backup');
    const refused = await runBackup({ DATA_DIR: store.dataDir }, existing);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`${existing} exists: name a new file`);
    expect(refused.stdout).toBe('');
    expect(readFileSync(existing, 'utf8')).toBe('an earlier backup');
    // The same command with a new file name writes it.
    const fresh = await runBackup({ DATA_DIR: store.dataDir }, join(dir, 'fresh.db'));
    expect(fresh.code).toBe(0);
    expect(existsSync(join(dir, 'fresh.db'))).toBe(true);
    await service.stop();
  }, LOADED_MACHINE_TIMEOUT_MS);

  it('refuses when DATABASE_URL is set (PostgreSQL is backed up with its own tools)', async () => {
    const target = join(dir, 'not-written.db');
    const refused = await runBackup({ DATA_DIR: store.dataDir, DATABASE_URL: 'postgres://inventory@127.0.0.1:1/inventory' }, target);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('DATABASE_URL is set: back PostgreSQL up with pg_dump');
    expect(refused.stdout).toBe('');
    expect(existsSync(target)).toBe(false);
  }, LOADED_MACHINE_TIMEOUT_MS);
});
