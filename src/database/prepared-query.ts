import type { Compilable, CompiledQuery, Kysely } from 'kysely';

/**
 * A read built and compiled once, then run with each call's values in the places of the
 * template's. On a page read Kysely's building and compiling (a tree of nodes for every field of
 * the rendered JSON) cost more CPU than SQLite's whole statement; the text and the order of the
 * parameters never change between calls, only their values.
 */
export class PreparedQuery<R> {
  private readonly compiled: CompiledQuery<R>;

  /** `template` is built with placeholder values, one for each value `run` will be given. */
  constructor(template: Compilable<R>) {
    this.compiled = template.compile();
  }

  async run<D>(db: Kysely<D>, parameters: readonly unknown[]): Promise<R[]> {
    if (parameters.length !== this.compiled.parameters.length) {
      throw new Error(`a prepared query takes ${this.compiled.parameters.length} values, not ${parameters.length}`);
    }
    const result = await db.executeQuery<R>({ ...this.compiled, parameters });
    return result.rows;
  }
}
