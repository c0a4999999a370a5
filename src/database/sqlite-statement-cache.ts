import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';
import { setTimeout as sleep } from 'node:timers/promises';
import { DatabaseUnavailableError, isSqliteUnavailable, translated } from './database-errors';

const MAX_CACHED_STATEMENTS = 256;
/**
 * SQLite plans a statement whose LIMIT is a bound parameter with the value bound (as if it were
 * written in the text), and so marks the statement to be prepared again whenever that parameter
 * is bound: on every run, since each run binds its values anew. For a page of history that
 * parsing and planning (the 15 fields of its JSON included) took about 20 µs of a 50 µs read.
 * A statement that ends in `limit ?` (how Kysely writes `.limit(n)`) is therefore prepared once
 * for each limit it is run with, the limit written into its text, up to this many limits; a run
 * with any other limit binds it as before.
 */
const MAX_LIMITS_PER_STATEMENT = 32;
const TRAILING_LIMIT = / limit \?$/;
/** The longest pause between two tries for the write lock: a commit elsewhere takes milliseconds. */
const MAX_LOCK_PAUSE_MS = 8;
/**
 * How long a statement waits for a lock another connection holds (a second worker's group
 * transaction, a migration run, a backup) before it fails and the request gets 503.
 */
export const SQLITE_BUSY_TIMEOUT_MS = 5000;

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
      statement = translating(byLimit(text, (source) => guard(() => this.native.prepare(source))));
      if (this.statements.size < MAX_CACHED_STATEMENTS) {
        this.statements.set(text, statement);
      }
    }
    return statement;
  }

  /**
   * A read that returns its first column, `name`, of each row as a plain array (better-sqlite3's
   * pluck), prepared once: for a page of rendered items, one string per row, no row object.
   */
  column(sql: string, name: string): (parameters: readonly unknown[]) => unknown[] {
    const pick = byLimit(sql, (source) => {
      const statement = guard(() => this.native.prepare(source));
      if (statement.columns()[0]?.name !== name) {
        throw new Error(`${sql} must select ${name} first`);
      }
      return statement.pluck(true);
    });
    return (parameters) => {
      const [statement, values] = pick(parameters);
      return guard(() => statement.all(values));
    };
  }

  /**
   * Runs reads in one snapshot: a transaction that only reads. Another process (a worker of
   * WORKERS > 1) may commit between two statements run on their own.
   */
  inOneSnapshot<T>(work: () => T): T {
    this.prepare('begin deferred').run([]);
    let result: T;
    try {
      result = work();
    } catch (error) {
      if (this.native.inTransaction) {
        this.prepare('rollback').run([]);
      }
      throw error;
    }
    this.prepare('commit').run([]);
    return result;
  }

  /**
   * Starts a write transaction (`begin immediate`) if no other connection holds the write lock,
   * and says whether it did. Without SQLite's busy handler: that waits by sleeping the thread, and
   * with it the event loop, so a worker waiting for another's commit would serve nothing at all.
   */
  tryBeginImmediate(): boolean {
    this.native.pragma('busy_timeout = 0');
    try {
      this.prepare('begin immediate').run([]);
      return true;
    } catch (error) {
      const cause = error instanceof DatabaseUnavailableError ? error.options.cause : error;
      if ((cause as { code?: unknown } | undefined)?.code === 'SQLITE_BUSY') {
        return false;
      }
      throw error;
    } finally {
      this.native.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    }
  }

  /**
   * Takes the write lock, waiting for another process that holds it (the other workers of
   * WORKERS > 1, a migration, a backup) with timers rather than SQLite's busy handler, so the event
   * loop goes on serving meanwhile; DatabaseUnavailableError (503) beyond SQLITE_BUSY_TIMEOUT_MS.
   */
  async beginImmediateWhenFree(): Promise<void> {
    const deadline = Date.now() + SQLITE_BUSY_TIMEOUT_MS;
    for (let pauseMs = 1; !this.tryBeginImmediate(); pauseMs = Math.min(pauseMs * 2, MAX_LOCK_PAUSE_MS)) {
      if (Date.now() >= deadline) {
        throw new DatabaseUnavailableError(new Error(`the SQLite write lock was held elsewhere for more than ${SQLITE_BUSY_TIMEOUT_MS} ms`));
      }
      await sleep(pauseMs);
    }
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

/** A run's statement and the values it binds. */
type Pick = (parameters: readonly unknown[]) => readonly [BetterSqlite3.Statement, readonly unknown[]];

/**
 * The statement `sql` is run with: prepared as it is, or, if it ends in `limit ?`, once for each
 * integer limit it is run with, that limit written in place of the last parameter (see
 * MAX_LIMITS_PER_STATEMENT).
 */
function byLimit(sql: string, prepare: (source: string) => BetterSqlite3.Statement): Pick {
  const bound = prepare(sql);
  if (!TRAILING_LIMIT.test(sql)) {
    return (parameters) => [bound, parameters];
  }
  const written = new Map<number, BetterSqlite3.Statement>();
  return (parameters) => {
    const limit = parameters[parameters.length - 1];
    if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 0) {
      return [bound, parameters];
    }
    let statement = written.get(limit);
    if (statement === undefined) {
      if (written.size >= MAX_LIMITS_PER_STATEMENT) {
        return [bound, parameters];
      }
      statement = prepare(`${sql.slice(0, -1)}${limit}`);
      written.set(limit, statement);
    }
    return [statement, parameters.slice(0, -1)];
  };
}

function translating(pick: Pick): SqliteStatement {
  const [prepared] = pick([]);
  return {
    reader: prepared.reader,
    all: (parameters) =>
      guard(() => {
        const [statement, values] = pick(parameters);
        return statement.all(values);
      }),
    run: (parameters) =>
      guard(() => {
        const [statement, values] = pick(parameters);
        return statement.run(values);
      }),
    iterate: (parameters) =>
      guard(() => {
        const [statement, values] = pick(parameters);
        return statement.iterate(values);
      }),
  };
}
