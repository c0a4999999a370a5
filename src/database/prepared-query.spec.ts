import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, sql } from 'kysely';
import type { DatabaseConnection } from './database-connection';
import type { TranslatingPool } from './postgres-pool';
import { PreparedQuery, RenderedPageQuery } from './prepared-query';
import type { DatabaseSchema } from './schema';

/** Kysely that compiles PostgreSQL and never connects. */
const db = new Kysely<DatabaseSchema>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (kysely) => new PostgresIntrospector(kysely),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});
const levelQuery = db.selectFrom('stock_levels').select(['quantity', 'version']).where('store_id', '=', '').where('product_id', '=', '');

function postgresConnection(): { connection: DatabaseConnection; execute: jest.Mock } {
  const execute = jest.fn().mockResolvedValue({ rows: [{ quantity: 3, version: 2 }] });
  return { connection: { db, dialect: 'postgres', postgres: { execute } as unknown as TranslatingPool } as unknown as DatabaseConnection, execute };
}

describe('PreparedQuery', () => {
  it('runs on PostgreSQL as one named statement, the text compiled once, with each call’s values', async () => {
    const { connection, execute } = postgresConnection();
    const query = new PreparedQuery(connection, 'read-level', levelQuery);
    expect(await query.run(['s1', 'p1'])).toEqual([{ quantity: 3, version: 2 }]);
    await query.run(['s2', 'p2']);
    const text = 'select "quantity", "version" from "stock_levels" where "store_id" = $1 and "product_id" = $2';
    expect(execute.mock.calls).toEqual([
      [{ name: 'read-level', text }, ['s1', 'p1']],
      [{ name: 'read-level', text }, ['s2', 'p2']],
    ]);
  });

  it('runs on SQLite through Kysely (which keeps reads out of an open write transaction), with the values in the template’s places', async () => {
    const executeQuery = jest.fn().mockResolvedValue({ rows: [{ quantity: 1 }] });
    const connection = { db: { executeQuery }, dialect: 'sqlite' } as unknown as DatabaseConnection;
    const query = new PreparedQuery(connection, 'read-level', levelQuery);
    expect(await query.run(['s1', 'p1'])).toEqual([{ quantity: 1 }]);
    expect(executeQuery).toHaveBeenCalledWith(expect.objectContaining({ sql: expect.stringContaining('from "stock_levels"'), parameters: ['s1', 'p1'] }));
  });

  it('refuses a call with more or fewer values than the template has places', async () => {
    const { connection, execute } = postgresConnection();
    const query = new PreparedQuery(connection, 'read-level', levelQuery);
    await expect(query.run(['s1'])).rejects.toThrow('takes 2 values, not 1');
    expect(execute).not.toHaveBeenCalled();
  });

  it('refuses a template that selects *: its prepared result would break when a migration adds a column', () => {
    const { connection } = postgresConnection();
    expect(() => new PreparedQuery(connection, 'all', db.selectFrom('stock_levels').selectAll())).toThrow('must name its columns');
    expect(() => new PreparedQuery(connection, 'all', db.selectFrom('ledger').selectAll('ledger'))).toThrow('must name its columns');
  });

  it('reads a rendered page on PostgreSQL as one statement: the items in order, the values alongside from its first row', async () => {
    const { connection, execute } = postgresConnection();
    execute.mockResolvedValueOnce({ rows: [{ item: '{"seq":2}', floor: 1 }, { item: '{"seq":1}', floor: 1 }] }).mockResolvedValueOnce({ rows: [] });
    const template = db
      .selectFrom('ledger')
      .select(sql<string>`'{}'`.as('item'))
      .select(sql<number>`0`.as('floor'))
      .where('store_id', '=', '');
    const page = new RenderedPageQuery(connection, 'read-page', template);
    expect(await page.read(['s1'])).toEqual({ items: ['{"seq":2}', '{"seq":1}'], alongside: { item: '{"seq":2}', floor: 1 } });
    expect(await page.read(['s2'])).toEqual({ items: [], alongside: undefined });
    expect(execute).toHaveBeenCalledWith({ name: 'read-page', text: expect.stringContaining('from "ledger"') }, ['s2']);
    await expect(page.read([])).rejects.toThrow('takes 1 values, not 0');
  });
});
