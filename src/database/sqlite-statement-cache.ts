import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';
import { isSqliteUnavailable, translated } from './database-errors';

const MAX_CACHED_STATEMENTS = 256;

/**
 * What Kysely's SQLite dialect talks to, wrapped around better-sqlite3 for three reasons:
 * - Kysely prepares every query anew; reusing prepared statements saves the SQL parse.
 * - Kysely opens transactions with a plain (deferred) `begin`; `begin immediate` takes the
 *   write lock up front, so a transaction never fails half-way with SQLITE_BUSY when another
 *   process (a migration run, a second instance by mistake) writes to the same file.
 * - I/O failures (a full or failing disk) surface as DatabaseUnavailableError.
 */
export class StatementCachingDatabase implements SqliteDatabase {
  private readonly statements = new Map<string, SqliteStatement>();

  constructor(readonly native: BetterSqlite3.Database) {}

  prepare(sql: string): SqliteStatement {
    const text = sql === 'begin' ? 'begin immediate' : sql;
    let statement = this.statements.get(text);
    if (statement === undefined) {
      statement = translating(guard(() => this.native.prepare(text)));
      if (this.statements.size < MAX_CACHED_STATEMENTS) {
        this.statements.set(text, statement);
      }
    }
    return statement;
  }

  close(): void {
    this.statements.clear();
    this.native.close();
  }
}

function guard<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw translated(error, isSqliteUnavailable);
  }
}

function translating(statement: BetterSqlite3.Statement): SqliteStatement {
  return {
    reader: statement.reader,
    all: (parameters) => guard(() => statement.all(parameters)),
    run: (parameters) => guard(() => statement.run(parameters)),
    iterate: (parameters) => guard(() => statement.iterate(parameters)),
  };
}
