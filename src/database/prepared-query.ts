import type { Compilable, CompiledQuery } from 'kysely';
import type { DatabaseConnection } from './database-connection';

/**
 * A read built and compiled by Kysely once, then run with each call's values in the places of the
 * template's: the text and the order of the parameters never change between calls, only their
 * values. On a page read, building and compiling the query (a tree of nodes for every field of
 * the rendered JSON) cost more CPU than SQLite's whole statement. On PostgreSQL the statement is
 * also prepared under `name`, once per pooled connection: the server then binds and runs it
 * instead of parsing and planning it again on every request (a page's plan cost as much as its
 * execution). Such a statement names its columns: a `select *` prepared before a migration added
 * one would fail on the instances still running.
 */
export class PreparedQuery<R> {
  private readonly compiled: CompiledQuery<R>;

  /** `template` is built with placeholder values, one for each value `run` will be given. */
  constructor(
    private readonly connection: DatabaseConnection,
    private readonly name: string,
    template: Compilable<R>,
  ) {
    this.compiled = template.compile();
    if (/^select \*|\.\*/.test(this.compiled.sql)) {
      throw new Error(`prepared query ${name} must name its columns`);
    }
  }

  async run(parameters: readonly unknown[]): Promise<R[]> {
    if (parameters.length !== this.compiled.parameters.length) {
      throw new Error(`prepared query ${this.name} takes ${this.compiled.parameters.length} values, not ${parameters.length}`);
    }
    const { postgres } = this.connection;
    if (postgres !== undefined) {
      return (await postgres.execute<R>({ name: this.name, text: this.compiled.sql }, parameters)).rows;
    }
    // SQLite through Kysely: its driver serialises statements on the one connection, so a read
    // never runs inside another request's open write transaction.
    return (await this.connection.db.executeQuery<R>({ ...this.compiled, parameters })).rows;
  }
}
