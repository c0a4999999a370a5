/**
 * Ceiling (c): the database alone. The update transaction's statements — a conditional UPDATE of
 * a level, a ledger INSERT and an idempotency-record INSERT — in a tight loop through the same
 * driver the service uses, one transaction per update, on the service's own schema.
 *
 * Env: DATABASE_URL (PostgreSQL) or DATA_DIR (SQLite), DURATION_MS, CONNECTIONS (PostgreSQL).
 * Prints "result <json>" with transactions per second.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Client } from 'pg';
import { loadConfig } from '../../src/config/app-config';
import { openDatabase } from '../../src/database/database-connection';
import { migrateToLatest } from '../../src/database/migrate';

const DURATION_MS = Number(process.env.DURATION_MS ?? 3000);
const LEVELS = 1000;
const now = () => new Date().toISOString();
const RESPONSE = '{"productId":"P","newQuantity":1,"newVersion":1,"applied":true,"lastUpdated":"2026-01-01T00:00:00.000Z"}';

async function prepareSchema(): Promise<void> {
  const config = loadConfig({ ...process.env, SEED_DEMO: 'false', LOG_LEVEL: 'silent' });
  const connection = openDatabase(config);
  await migrateToLatest(connection);
  await connection.db
    .insertInto('stock_levels')
    .values(Array.from({ length: LEVELS }, (_, index) => ({ store_id: 'ceiling', product_id: `P-${index}`, quantity: 0, version: 0, last_updated: now() })))
    .onConflict((conflict) => conflict.doNothing())
    .execute();
  await connection.close();
}

function sqlite(): { transactions: number; seconds: number } {
  const dataDir = process.env.DATA_DIR ?? './data';
  mkdirSync(dataDir, { recursive: true });
  const db = new BetterSqlite3(join(dataDir, 'inventory.db'));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${process.env.SQLITE_SYNCHRONOUS ?? 'FULL'}`);
  const begin = db.prepare('begin immediate');
  const commit = db.prepare('commit');
  const update = db.prepare('update stock_levels set quantity = quantity + 1, version = version + 1, last_updated = ? where store_id = ? and product_id = ? and version = ?');
  const ledger = db.prepare(
    'insert into ledger (seq, store_id, product_id, delta, quantity_after, version_after, idempotency_key, client_id, request_id, created_at, kind) values (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?)',
  );
  const record = db.prepare(
    'insert into idempotency_records (client_id, idempotency_key, fingerprint, status_code, response_body, created_at, expires_at) values (?, ?, ?, 200, ?, ?, ?)',
  );
  const versions = new Array<number>(LEVELS).fill(0);
  let seq = (db.prepare('select coalesce(max(seq), 0) as seq from ledger').get() as { seq: number }).seq;
  const started = performance.now();
  let transactions = 0;
  while (performance.now() - started < DURATION_MS) {
    const level = transactions % LEVELS;
    const at = now();
    seq += 1;
    begin.run();
    update.run(at, 'ceiling', `P-${level}`, versions[level]);
    versions[level] += 1;
    ledger.run(seq, 'ceiling', `P-${level}`, versions[level], versions[level], `k-${seq}`, 'bench', `r-${seq}`, at, 'adjust');
    record.run('bench', `k-${seq}`, 'fingerprint', RESPONSE, at, at);
    commit.run();
    transactions += 1;
  }
  db.close();
  return { transactions, seconds: (performance.now() - started) / 1000 };
}

async function postgres(url: string, connections: number): Promise<{ transactions: number; seconds: number }> {
  const clients = await Promise.all(
    Array.from({ length: connections }, async () => {
      const client = new Client({ connectionString: url });
      await client.connect();
      return client;
    }),
  );
  const perClient = Math.floor(LEVELS / connections);
  // Runs on one database follow each other: ledger seqs continue after the last one.
  const { rows } = await clients[0].query<{ seq: string }>('select coalesce(max(seq), 0) as seq from ledger');
  const base = Number(rows[0].seq) + 1;
  const started = performance.now();
  const counts = await Promise.all(
    clients.map(async (client, index) => {
      const versions = new Array<number>(perClient).fill(0);
      let done = 0;
      while (performance.now() - started < DURATION_MS) {
        const slot = done % perClient;
        const product = `P-${index * perClient + slot}`;
        const key = `k-${index}-${done}-${started}`;
        const at = now();
        await client.query('begin');
        await client.query('update stock_levels set quantity = quantity + 1, version = version + 1, last_updated = $1 where store_id = $2 and product_id = $3 and version = $4', [
          at,
          'ceiling',
          product,
          versions[slot],
        ]);
        versions[slot] += 1;
        await client.query(
          'insert into ledger (seq, store_id, product_id, delta, quantity_after, version_after, idempotency_key, client_id, request_id, created_at, kind) values ($1, $2, $3, 1, $4, $5, $6, $7, $8, $9, $10)',
          [base + index * 10_000_000 + done, 'ceiling', product, versions[slot], versions[slot], key, 'bench', key, at, 'adjust'],
        );
        await client.query(
          'insert into idempotency_records (client_id, idempotency_key, fingerprint, status_code, response_body, created_at, expires_at) values ($1, $2, $3, 200, $4, $5, $6)',
          ['bench', key, 'fingerprint', RESPONSE, at, at],
        );
        await client.query('commit');
        done += 1;
      }
      return done;
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(clients.map((client) => client.end()));
  return { transactions: counts.reduce((sum, count) => sum + count, 0), seconds };
}

async function main(): Promise<void> {
  await prepareSchema();
  const url = process.env.DATABASE_URL;
  const { transactions, seconds } = url === undefined ? sqlite() : await postgres(url, Number(process.env.CONNECTIONS ?? 1));
  console.log(`result ${JSON.stringify({ transactions, seconds, perSecond: transactions / seconds })}`);
}

void main();
