import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, sql, SqliteDialect } from 'kysely';
import { Pool, TypeOverrides } from 'pg';
import type { AppConfig } from '../config/app-config';
import { TranslatingPool } from './postgres-pool';
import type { DatabaseSchema } from './schema';
import { SQLITE_BUSY_TIMEOUT_MS, StatementCachingDatabase } from './sqlite-statement-cache';

export type DialectName = 'sqlite' | 'postgres';

/** The shared Kysely instance and which dialect it speaks; the injection token for persistence. */
export class DatabaseConnection {
  constructor(
    readonly db: Kysely<DatabaseSchema>,
    readonly dialect: DialectName,
    /** Where the data lives, for logs: the SQLite file or the PostgreSQL host/database. */
    readonly location: string,
    /** SQLite only: the prepared-statement cache under Kysely, for the hottest statements. */
    readonly sqlite?: StatementCachingDatabase,
    /** PostgreSQL only: the pool under Kysely, for the write transaction's prepared statements. */
    readonly postgres?: TranslatingPool,
  ) {}

  /**
   * Runs `work` in a write transaction. On SQLite the write lock is taken up front and, while
   * another process holds it, waited for with timers (beginImmediateWhenFree): SQLite's own busy
   * handler would put the whole event loop to sleep for up to its timeout.
   */
  writeTransaction<T>(work: (db: Kysely<DatabaseSchema>) => Promise<T>): Promise<T> {
    const { sqlite } = this;
    if (sqlite === undefined) {
      return this.db.transaction().execute(work);
    }
    return this.db.connection().execute(async (db) => {
      await sqlite.beginImmediateWhenFree();
      try {
        const result = await work(db);
        sqlite.prepare('commit').run([]);
        return result;
      } catch (error) {
        if (sqlite.native.inTransaction) {
          sqlite.prepare('rollback').run([]);
        }
        throw error;
      }
    });
  }

  /**
   * How commits reach the disk, read from the live connection rather than from the configuration:
   * SQLite's journal mode and synchronous level, PostgreSQL's synchronous_commit.
   */
  async durability(): Promise<Record<string, string>> {
    if (this.sqlite !== undefined) {
      const native = this.sqlite.native;
      const synchronous = native.pragma('synchronous', { simple: true }) as number;
      return { journalMode: String(native.pragma('journal_mode', { simple: true })), synchronous: SQLITE_SYNCHRONOUS_LEVELS[synchronous] ?? String(synchronous) };
    }
    const { rows } = await sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(this.db);
    return { synchronousCommit: rows[0].synchronous_commit };
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

/** PRAGMA synchronous answers a number. */
const SQLITE_SYNCHRONOUS_LEVELS: Readonly<Record<number, string>> = { 0: 'OFF', 1: 'NORMAL', 2: 'FULL', 3: 'EXTRA' };

const INT8_OID = 20;

/** Every integer the service stores stays within Number.MAX_SAFE_INTEGER (the domain enforces it). */
function postgresTypes(): TypeOverrides {
  const overrides = new TypeOverrides();
  overrides.setTypeParser(INT8_OID, 'text', Number);
  return overrides;
}

/** Long enough for any healthy lock wait, short enough to fail before the processing timeout. */
export function lockTimeoutMs(config: AppConfig): number {
  return Math.max(100, Math.min(2000, Math.floor(config.processingTimeoutMs / 4)));
}

/** Where connection-level failures of idle pooled connections are reported. */
export interface ConnectionErrorLogger {
  warn(details: object, message: string): void;
}

/** The embedded database's file. */
export function sqliteFileOf(config: Pick<AppConfig, 'dataDir'>): string {
  return join(config.dataDir, 'inventory.db');
}

export function openDatabase(config: AppConfig, logger?: ConnectionErrorLogger): DatabaseConnection {
  if (config.databaseUrl !== undefined) {
    const pool = new Pool({
      connectionString: config.databaseUrl,
      max: config.databasePoolSize,
      types: postgresTypes(),
      application_name: 'inventory-service',
      // Fail fast while the database is unreachable rather than queueing behind dead connects.
      connectionTimeoutMillis: 2000,
      keepAlive: true,
      // A lock held longer than this (a stuck transaction elsewhere) fails the waiting statement
      // instead of stalling this instance's update queue; no statement may outlive a request.
      options: `-c lock_timeout=${lockTimeoutMs(config)} -c statement_timeout=${config.processingTimeoutMs}`,
    });
    // A connection dropped by the server (restart, failover, network) must never take the
    // process down: idle ones are reported by the pool, checked-out ones by the client itself;
    // the statement in flight fails with DatabaseUnavailableError and the pool replaces the client.
    pool.on('error', (error) => logger?.warn({ err: error }, 'idle database connection lost'));
    pool.on('connect', (client) => client.on('error', (error) => logger?.warn({ err: error }, 'database connection lost')));
    const url = new URL(config.databaseUrl);
    const translating = new TranslatingPool(pool);
    const dialect = new PostgresDialect({ pool: translating });
    return new DatabaseConnection(new Kysely({ dialect }), 'postgres', `${url.host}${url.pathname}`, undefined, translating);
  }

  mkdirSync(config.dataDir, { recursive: true });
  const file = sqliteFileOf(config);
  const native = new BetterSqlite3(file);
  native.pragma('journal_mode = WAL');
  // FULL: the WAL is fsynced at every commit, so an acknowledged change survives power loss.
  native.pragma(`synchronous = ${config.sqliteSynchronous}`);
  native.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  native.pragma('foreign_keys = ON');
  // Every update adds a ledger row and an idempotency record: a 64 MiB page cache and memory-mapped
  // reads keep their indexes in memory instead of the default 2 MiB.
  native.pragma('cache_size = -65536');
  native.pragma('mmap_size = 268435456');
  native.pragma('temp_store = MEMORY');
  const database = new StatementCachingDatabase(native);
  return new DatabaseConnection(new Kysely({ dialect: new SqliteDialect({ database }) }), 'sqlite', file, database);
}
