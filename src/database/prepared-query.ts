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
    this.assertValues(parameters);
    const { postgres } = this.connection;
    if (postgres !== undefined) {
      return (await postgres.execute<R>({ name: this.name, text: this.compiled.sql }, parameters)).rows;
    }
    // SQLite through Kysely: its driver serialises statements on the one connection, so a read
    // never runs inside another request's open write transaction.
    return (await this.connection.db.executeQuery<R>({ ...this.compiled, parameters })).rows;
  }

  assertValues(parameters: readonly unknown[]): void {
    if (parameters.length !== this.compiled.parameters.length) {
      throw new Error(`prepared query ${this.name} takes ${this.compiled.parameters.length} values, not ${parameters.length}`);
    }
  }
}

/**
 * A page of items the database writes as JSON (`renderedItem`, selected first), with values read
 * alongside it in the same snapshot (`A`: history's floor), compiled once.
 *
 * On PostgreSQL the template runs as one named statement (PreparedQuery), its values alongside as
 * columns of every row. On SQLite the items are read as one column of strings (no row object for
 * each: that cost more than SQLite's read of the rows, about 150 against 90 µs for a page of 101
 * levels and 220 against 150 for a page of history, in a tight loop), and the values alongside by
 * a statement of their own, both in one read transaction. Either way under Kysely's connection
 * lock, so a read never runs inside another request's open write transaction.
 */
export class RenderedPageQuery<A extends object = Record<never, never>> {
  private readonly query: PreparedQuery<{ item: string } & A>;
  /** SQLite: the items' texts; the values alongside them. */
  private readonly items?: (parameters: readonly unknown[]) => unknown[];
  private readonly alongside?: () => A;

  constructor(
    private readonly connection: DatabaseConnection,
    name: string,
    template: Compilable<{ item: string } & A>,
    /** For SQLite: the values the template also reads, read on their own. */
    alongside?: Compilable<A>,
  ) {
    this.query = new PreparedQuery(connection, name, template);
    const { sqlite } = connection;
    if (sqlite !== undefined) {
      this.items = sqlite.column(template.compile().sql, 'item');
      const text = alongside?.compile().sql;
      this.alongside = text === undefined ? undefined : () => sqlite.prepare(text).all([])[0] as A;
    }
  }

  /** The items' JSON texts in the template's order, and the values alongside (on PostgreSQL, none when there are no rows). */
  async read(parameters: readonly unknown[]): Promise<{ items: string[]; alongside: A | undefined }> {
    const { sqlite } = this.connection;
    if (sqlite === undefined) {
      const rows = await this.query.run(parameters);
      return { items: rows.map((row) => row.item), alongside: rows[0] };
    }
    this.query.assertValues(parameters);
    const read = () => ({ items: this.items!(parameters) as string[], alongside: this.alongside?.() });
    return this.connection.db.connection().execute(() => Promise.resolve(this.alongside === undefined ? read() : sqlite.inOneSnapshot(read)));
  }
}
