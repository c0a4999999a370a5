import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

const MAX_CACHED_STATEMENTS = 256;

/**
 * What Kysely's SQLite dialect talks to, wrapped around better-sqlite3 for two reasons:
 * - Kysely prepares every query anew; reusing prepared statements saves the SQL parse.
 * - Kysely opens transactions with a plain (deferred) `begin`; `begin immediate` takes the
 *   write lock up front, so a transaction never fails half-way with SQLITE_BUSY when another
 *   process (a migration run, a second instance by mistake) writes to the same file.
 */
export class StatementCachingDatabase implements SqliteDatabase {
  private readonly statements = new Map<string, BetterSqlite3.Statement>();

  constructor(readonly native: BetterSqlite3.Database) {}

  prepare(sql: string): SqliteStatement {
    const text = sql === 'begin' ? 'begin immediate' : sql;
    let statement = this.statements.get(text);
    if (statement === undefined) {
      statement = this.native.prepare(text);
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
