import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { ConfigError, loadConfig } from '../config/app-config';
import { sqliteFileOf } from './database-connection';

/** Pages copied per step: all of them, so that the copy is one consistent read of the database. */
const ALL_PAGES = 0x7fffffff;

/**
 * `npm run backup -- <file>`: a consistent copy of the embedded SQLite database, taken with
 * SQLite's online backup API while the service goes on serving (WAL: the copy is one read
 * transaction, which writers do not wait for). The copy is checked before this exits 0.
 */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  if (config.databaseUrl !== undefined) {
    throw new Error('DATABASE_URL is set: back PostgreSQL up with pg_dump or a base backup with WAL archiving (see the README, "Backups and restore")');
  }
  const target = process.argv[2];
  if (target === undefined || target.trim() === '') {
    throw new Error('usage: npm run backup -- <file>   (the copy of the database to write)');
  }
  const destination = resolve(target);
  if (existsSync(destination)) {
    throw new Error(`${destination} exists: name a new file, so that no earlier backup is overwritten`);
  }
  const source = sqliteFileOf(config);
  if (!existsSync(source)) {
    throw new Error(`no database at ${source} (DATA_DIR): nothing to back up`);
  }
  const database = new BetterSqlite3(source, { fileMustExist: true });
  const startedAt = Date.now();
  try {
    database.pragma('busy_timeout = 5000');
    await database.backup(destination, { progress: () => ALL_PAGES });
  } finally {
    database.close();
  }
  const copy = new BetterSqlite3(destination, { readonly: true });
  try {
    const check = copy.pragma('integrity_check', { simple: true });
    if (check !== 'ok') {
      throw new Error(`the copy at ${destination} failed its integrity check: ${String(check)}`);
    }
    const { last_seq: lastSeq } = copy.prepare('select last_seq from ledger_head where id = 1').get() as { last_seq: number };
    const { levels } = copy.prepare('select count(*) as levels from stock_levels').get() as { levels: number };
    process.stdout.write(`${JSON.stringify({ msg: 'backup written', file: destination, lastSeq, levels, ms: Date.now() - startedAt })}\n`);
  } finally {
    copy.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError || error instanceof Error ? error.message : error);
  process.exit(1);
});
