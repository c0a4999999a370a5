import { type Kysely, sql } from 'kysely';
import { Client as PostgresClient } from 'pg';
import { encodeCursor } from '../src/common/http/cursor';
import { historyCoveringIndex } from '../src/database/migrations/0005-history-covering-index';
import { TEST_DIALECT } from './helpers/dialect';
import { startApp, type TestApp } from './helpers/test-app';

/**
 * The statements behind a page of levels, a page of history and a single level, as the service
 * really issues them on a chain-seeded database (captured in-process under Kysely and the
 * prepared statements), explained with their own parameters: each must search an index, never
 * scan stock_levels or the ledger, and never sort; on SQLite a page of history reads its entries
 * from ledger_by_level without writing any. The last cases change ledger_by_level (SQLite) and
 * drop it, and show the checks then report the history page, so a lost index fails this suite.
 */
const STORES = 50;
const PRODUCTS = 400;
/**
 * The recorder sees every statement of the process, so the periodic jobs (the reservation
 * sweeper's, the pruner's, the feed's head poll) are held off for the suite's length: what it
 * explains and counts is the requests'.
 */
const CHAIN = {
  SEED_DEMO: 'chain',
  SEED_CHAIN_STORES: String(STORES),
  SEED_CHAIN_PRODUCTS: String(PRODUCTS),
  RESERVATION_SWEEP_INTERVAL_MS: '600000',
  LEDGER_PRUNE_INTERVAL_MS: '86400000',
  FEED_POLL_INTERVAL_MS: '60000',
};
/**
 * The ledger of a chain that has run for a while: BUSY_PRODUCTS levels in each of BUSY_STORES with
 * BUSY_ENTRIES entries each, among one entry for every other level, in a shuffled order (a level's
 * entries lie all over the table). The plans depend on that shape: with a history barely longer
 * than a page (130 entries), or with so few levels that one is a large share of the ledger,
 * PostgreSQL rightly prefers reading the level's few entries and sorting them, or walking the
 * ledger's primary key backwards.
 */
const BUSY_STORES = ['store-0017', 'store-0042'];
const BUSY_PRODUCTS = 20;
const BUSY_ENTRIES = 500;
const INSERT_BATCH = 1000;

const productId = (product: number) => `P-${String(product + 1).padStart(5, '0')}`;

/** Writes the ledger described above straight into the database (the API would take minutes to). */
async function writeLedger(app: TestApp): Promise<void> {
  const levels: Array<[string, string]> = [];
  for (const storeId of BUSY_STORES) {
    for (let product = 0; product < BUSY_PRODUCTS; product += 1) {
      levels.push(...Array.from({ length: BUSY_ENTRIES - 1 }, (): [string, string] => [storeId, productId(product)]));
    }
  }
  for (let store = 0; store < STORES; store += 1) {
    for (let product = 0; product < PRODUCTS; product += 1) {
      levels.push([`store-${String(store + 1).padStart(4, '0')}`, productId(product)]);
    }
  }
  // A fixed shuffle (a linear congruential generator), so every run plans the same ledger.
  let state = 42;
  for (let index = levels.length - 1; index > 0; index -= 1) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const other = state % (index + 1);
    [levels[index], levels[other]] = [levels[other], levels[index]];
  }
  const createdAt = new Date().toISOString();
  const versions = new Map<string, number>();
  const rows = levels.map(([storeId, product], index) => {
    const version = (versions.get(`${storeId}/${product}`) ?? 0) + 1;
    versions.set(`${storeId}/${product}`, version);
    return { seq: index + 1, store_id: storeId, product_id: product, delta: 1, quantity_after: version, version_after: version, idempotency_key: `ledger-${index}`, client_id: 'demo', request_id: `request-${index}`, created_at: createdAt };
  });
  await app.connection.db.transaction().execute(async (transaction) => {
    for (let start = 0; start < rows.length; start += INSERT_BATCH) {
      await transaction.insertInto('ledger').values(rows.slice(start, start + INSERT_BATCH)).execute();
    }
    await transaction.updateTable('ledger_head').set({ last_seq: rows.length }).where('id', '=', 1).execute();
  });
}

interface Captured {
  readonly text: string;
  readonly parameters: readonly unknown[];
}

/** Every statement the process sends to the database while `recording` is set. */
class StatementRecorder {
  private recording: Captured[] | undefined;
  private readonly restore: Array<() => void> = [];

  constructor(app: TestApp) {
    const record = (statement: Captured) => this.recording?.push(statement);
    if (app.connection.dialect === 'sqlite') {
      // better-sqlite3's statements (Kysely's, cached, and the repositories' own prepared ones) share one prototype.
      const prototype = Object.getPrototypeOf(app.connection.sqlite!.native.prepare('select 1')) as Record<string, (...args: unknown[]) => unknown>;
      for (const method of ['all', 'get', 'run', 'iterate']) {
        const original = prototype[method];
        prototype[method] = function (this: { source: string }, ...args: unknown[]) {
          record({ text: this.source, parameters: Array.isArray(args[0]) ? (args[0] as unknown[]) : args });
          return original.apply(this, args);
        };
        this.restore.push(() => (prototype[method] = original));
      }
    } else {
      // pg's Client: Kysely's queries (text, values) and named prepared statements ({ name, text, values }).
      const prototype = PostgresClient.prototype as unknown as { query: (...args: unknown[]) => unknown };
      const original = prototype.query;
      prototype.query = function (this: unknown, ...args: unknown[]) {
        const [first, second] = args;
        if (typeof first === 'string') {
          record({ text: first, parameters: Array.isArray(second) ? (second as unknown[]) : [] });
        } else if (typeof first === 'object' && first !== null && typeof (first as { text?: unknown }).text === 'string') {
          const query = first as { text: string; values?: unknown[] };
          record({ text: query.text, parameters: query.values ?? (Array.isArray(second) ? (second as unknown[]) : []) });
        }
        return original.apply(this, args);
      };
      this.restore.push(() => (prototype.query = original));
    }
  }

  async capture(work: () => Promise<unknown>): Promise<Captured[]> {
    const captured: Captured[] = [];
    this.recording = captured;
    try {
      await work();
    } finally {
      this.recording = undefined;
    }
    return captured;
  }

  dispose(): void {
    this.restore.forEach((undo) => undo());
  }
}

interface Plan {
  /** SQLite: the EXPLAIN QUERY PLAN lines; PostgreSQL: one line per plan node ("Index Scan Backward using ledger_by_level on ledger"). */
  readonly lines: string[];
}

async function explain(app: TestApp, statement: Captured): Promise<Plan> {
  if (app.connection.dialect === 'sqlite') {
    const rows = app.connection.sqlite!.native.prepare(`explain query plan ${statement.text}`).all(...statement.parameters) as Array<{ detail: string }>;
    return { lines: rows.map((row) => row.detail) };
  }
  const client = await app.connection.postgres!.pool.connect();
  try {
    const { rows } = await client.query<{ 'QUERY PLAN': Array<{ Plan: PostgresNode }> }>(`explain (format json) ${statement.text}`, [...statement.parameters]);
    const lines: string[] = [];
    const walk = (node: PostgresNode) => {
      const direction = node['Scan Direction'] === 'Backward' ? ' Backward' : '';
      lines.push(`${node['Node Type']}${direction}${node['Index Name'] ? ` using ${node['Index Name']}` : ''}${node['Relation Name'] ? ` on ${node['Relation Name']}` : ''}`);
      node.Plans?.forEach(walk);
    };
    walk(rows[0]['QUERY PLAN'][0].Plan);
    return { lines };
  } finally {
    client.release();
  }
}

interface PostgresNode {
  readonly 'Node Type': string;
  readonly 'Relation Name'?: string;
  readonly 'Index Name'?: string;
  readonly 'Scan Direction'?: string;
  readonly Plans?: PostgresNode[];
}

/** What is wrong with a statement's plan: a scan of a chain-sized table, a sort, or not the expected index. */
function problemsOf(dialect: 'sqlite' | 'postgres', plan: Plan, expectedIndex?: ExpectedIndex): string[] {
  const problems: string[] = [];
  for (const line of plan.lines) {
    if (dialect === 'sqlite') {
      if (/^SCAN (stock_levels|ledger)\b/.test(line)) {
        problems.push(`scan: ${line}`);
      }
      if (/USE TEMP B-TREE/.test(line)) {
        problems.push(`sort: ${line}`);
      }
    } else {
      if (/^Seq Scan on (stock_levels|ledger)$/.test(line) || /^Bitmap Heap Scan on (stock_levels|ledger)$/.test(line)) {
        problems.push(`scan: ${line}`);
      }
      if (/^(Sort|Incremental Sort)\b/.test(line)) {
        problems.push(`sort: ${line}`);
      }
    }
  }
  if (expectedIndex !== undefined) {
    const found = plan.lines.some((line) =>
      dialect === 'sqlite'
        ? line.startsWith(`SEARCH ${expectedIndex.table} USING `) && expectedIndex.sqlite.test(line)
        : /^Index (Only )?Scan( Backward)? using /.test(line) && expectedIndex.postgres.some((index) => line.endsWith(` using ${index} on ${expectedIndex.table}`)),
    );
    if (!found) {
      problems.push(`no search of ${expectedIndex.table} through its index`);
    }
  }
  return problems;
}

interface ExpectedIndex {
  readonly table: string;
  /** How EXPLAIN QUERY PLAN names the search (the primary key of stock_levels is SQLite's autoindex). */
  readonly sqlite: RegExp;
  /** The indexes PostgreSQL may use. */
  readonly postgres: readonly string[];
}

/** A page of a store's levels: only the primary key gives them in product order. */
const LEVELS_PK: ExpectedIndex = { table: 'stock_levels', sqlite: /USING INDEX sqlite_autoindex_stock_levels_1 \(store_id=\? AND product_id>\?\)/, postgres: ['stock_levels_pk'] };
/**
 * One level by its two ids: the primary key, or stock_levels_by_product (product_id, store_id),
 * which finds the one row as directly (PostgreSQL picks either).
 */
const ONE_LEVEL: ExpectedIndex = {
  table: 'stock_levels',
  sqlite: /USING INDEX (sqlite_autoindex_stock_levels_1|stock_levels_by_product) \((store_id=\? AND product_id=\?|product_id=\? AND store_id=\?)\)/,
  postgres: ['stock_levels_pk', 'stock_levels_by_product'],
};
/** A level's history: on SQLite from the index alone (it holds each entry's JSON), so the entries are read side by side. */
const LEDGER_BY_LEVEL: ExpectedIndex = { table: 'ledger', sqlite: /USING COVERING INDEX ledger_by_level \(store_id=\? AND product_id=\?( AND seq<\?)?\)/, postgres: ['ledger_by_level'] };

/** SQLite: the functions a statement's program calls (EXPLAIN's Function opcodes), e.g. `json_object(-1)`. */
function functionsCalled(app: TestApp, statement: Captured): string[] {
  const program = app.connection.sqlite!.native.prepare(`explain ${statement.text}`).all(...statement.parameters) as Array<{ opcode: string; p4: unknown }>;
  return program.filter((step) => step.opcode.startsWith('Function')).map((step) => String(step.p4));
}

describe(`the chain's list, history and level reads use their indexes (${STORES} stores × ${PRODUCTS} products)`, () => {
  let app: TestApp;
  let recorder: StatementRecorder;
  const get = (path: string) => app.http().get(path).set('X-API-Key', 'demo');

  beforeAll(async () => {
    app = await startApp({ env: CHAIN });
    await writeLedger(app);
    if (app.connection.dialect === 'postgres') {
      await sql`analyze`.execute(app.connection.db);
    }
    recorder = new StatementRecorder(app);
  });

  afterAll(async () => {
    recorder?.dispose();
    await app.close();
  });

  /** The statements of one request that read `table`, and every statement of it with its plan. */
  async function statementsOf(path: string, table: 'stock_levels' | 'ledger') {
    // The change feed reads the ledger by seq in the background meanwhile (catching up with the rows written above): not the request's.
    const captured = (await recorder.capture(async () => get(path).expect(200))).filter((statement) => !/"seq" > \S+ and "seq" <= /.test(statement.text));
    const plans = await Promise.all(captured.map(async (statement) => ({ statement, plan: await explain(app, statement) })));
    const reading = plans.filter(({ statement }) => new RegExp(`from "?${table}"?(\\s|$)`).test(statement.text));
    return { plans, reading };
  }

  it('a page of 100 levels from the middle of a store: a search of the primary key, in its order', async () => {
    const cursor = (await get(`/v1/stores/store-0021/inventory?limit=100`).expect(200)).body as { nextCursor: string };
    const page = (await get(`/v1/stores/store-0021/inventory?limit=100&cursor=${cursor.nextCursor}`).expect(200)).body as { items: Array<{ productId: string }> };
    expect([page.items.length, page.items[0].productId]).toEqual([100, productId(100)]);

    const { plans, reading } = await statementsOf(`/v1/stores/store-0021/inventory?limit=100&cursor=${cursor.nextCursor}`, 'stock_levels');
    expect(reading).toHaveLength(1);
    expect(reading[0].statement.parameters).toEqual(expect.arrayContaining(['store-0021', productId(99)]));
    expect(problemsOf(app.connection.dialect, reading[0].plan, LEVELS_PK)).toEqual([]);
    expect(plans.flatMap(({ plan }) => problemsOf(app.connection.dialect, plan))).toEqual([]);
  });

  it('a page of 100 history entries of a level with 500, and a later page: a backward search of ledger_by_level, no sort', async () => {
    const first = (await get(`/v1/stores/store-0042/inventory/${productId(3)}/history?limit=100`).expect(200)).body as { items: unknown[]; nextCursor: string };
    expect(first.items).toHaveLength(100);

    for (const path of [`/v1/stores/store-0017/inventory/${productId(7)}/history?limit=100`, `/v1/stores/store-0042/inventory/${productId(3)}/history?limit=100&cursor=${first.nextCursor}`]) {
      const { plans, reading } = await statementsOf(path, 'ledger');
      expect(reading).toHaveLength(1);
      expect(problemsOf(app.connection.dialect, reading[0].plan, LEDGER_BY_LEVEL)).toEqual([]);
      expect(plans.flatMap(({ plan }) => problemsOf(app.connection.dialect, plan))).toEqual([]);
      // The entries prove the level exists; the pruned floor comes with them, in the same snapshot:
      // on PostgreSQL in the same statement, on SQLite read beside it in one read transaction.
      const texts = plans.map(({ statement }) => statement.text.replace(/ from "ledger" .*/, ' from "ledger" …'));
      if (app.connection.dialect === 'postgres') {
        expect(texts).toEqual([expect.stringMatching(/^select coalesce\(entry, .* as "floor" from "ledger" …$/)]);
      } else {
        expect(texts).toEqual(['begin deferred', expect.stringMatching(/^select json_object\(.* as "item" from "ledger" …$/), 'select "pruned_through" as "floor" from "ledger_floor" where "id" = 1', 'commit']);
        // The entries are read from the index as they were written with their rows: the page writes none.
        expect(functionsCalled(app, reading[0].statement)).toEqual([]);
      }
    }
    // An empty page looks the level up (to tell an empty history from an unknown level): through its index.
    const { plans } = await statementsOf(`/v1/stores/store-0042/inventory/${productId(3)}/history?limit=100&cursor=${encodeCursor(1)}`, 'ledger');
    const level = plans.filter(({ statement }) => /from "?stock_levels"?(\s|$)/.test(statement.text));
    expect(level).toHaveLength(1);
    expect(problemsOf(app.connection.dialect, level[0].plan, ONE_LEVEL)).toEqual([]);
  });

  it('a single level: a search of the primary key', async () => {
    const { plans, reading } = await statementsOf(`/v1/stores/store-0033/inventory/${productId(250)}`, 'stock_levels');
    expect(reading).toHaveLength(1);
    expect(reading[0].statement.parameters).toEqual(['store-0033', productId(250)]);
    expect(problemsOf(app.connection.dialect, reading[0].plan, ONE_LEVEL)).toEqual([]);
    expect(plans.flatMap(({ plan }) => problemsOf(app.connection.dialect, plan))).toEqual([]);
  });

  // PostgreSQL keeps the narrow index (see migrations 0005 and 0006), so these cases are SQLite's alone.
  if (TEST_DIALECT === 'sqlite') {
    it('reports the history page on SQLite once ledger_by_level holds the columns instead of the entries (the check can fail)', async () => {
      // Migration 0005's ledger_by_level: every column an entry shows.
      await historyCoveringIndex.up(app.connection.db as Kysely<unknown>);
      const { reading } = await statementsOf(`/v1/stores/store-0017/inventory/${productId(7)}/history?limit=100`, 'ledger');
      expect(problemsOf(app.connection.dialect, reading[0].plan, LEDGER_BY_LEVEL)).toEqual([]);
      expect(functionsCalled(app, reading[0].statement)).toEqual(expect.arrayContaining(['json_object(-1)']));
    });

    it('reports the history page on SQLite once ledger_by_level no longer holds what an entry shows (the check can fail)', async () => {
      await app.connection.db.schema.dropIndex('ledger_by_level').execute();
      await app.connection.db.schema.createIndex('ledger_by_level').on('ledger').columns(['store_id', 'product_id', 'seq']).execute();
      const { reading } = await statementsOf(`/v1/stores/store-0017/inventory/${productId(7)}/history?limit=100`, 'ledger');
      expect(reading[0].plan.lines).toEqual([expect.stringMatching(/^SEARCH ledger USING INDEX ledger_by_level /)]);
      expect(problemsOf(app.connection.dialect, reading[0].plan, LEDGER_BY_LEVEL)).toEqual(['no search of ledger through its index']);
    });
  }

  it('reports the history page once ledger_by_level is gone (the check can fail)', async () => {
    await app.connection.db.schema.dropIndex('ledger_by_level').execute();
    if (app.connection.dialect === 'postgres') {
      await sql`analyze ledger`.execute(app.connection.db);
    }
    const { reading } = await statementsOf(`/v1/stores/store-0017/inventory/${productId(7)}/history?limit=100`, 'ledger');
    expect(problemsOf(app.connection.dialect, reading[0].plan, LEDGER_BY_LEVEL)).toEqual(expect.arrayContaining(['no search of ledger through its index']));
  });
});
