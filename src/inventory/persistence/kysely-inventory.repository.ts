import { type Kysely, type Selectable } from 'kysely';
import type { StoreScope } from '../../config/app-config';
import type { DatabaseConnection } from '../../database/database-connection';
import { PreparedQuery, RenderedPageQuery } from '../../database/prepared-query';
import { type ItemField, type RenderedPage, renderedItem, renderedPage } from '../../database/rendered-json';
import type { DatabaseSchema, IdempotencyRecordsTable, StockLevelsTable } from '../../database/schema';
import type { StockLevel } from '../domain/stock-level';
import { type IdempotencyRecord, InventoryRepository, type InventoryWriteTransaction } from './inventory.repository';

export function toStockLevel(row: Selectable<StockLevelsTable>): StockLevel {
  return {
    storeId: row.store_id,
    productId: row.product_id,
    quantity: row.quantity,
    reserved: row.reserved,
    version: row.version,
    lastUpdated: new Date(row.last_updated),
  };
}

export type IdempotencyRecordRow = Pick<Selectable<IdempotencyRecordsTable>, 'fingerprint' | 'status_code' | 'response_body' | 'content_type' | 'expires_at'>;

/** A stored answer, or undefined while the record is only a claim (no answer yet). */
export function toIdempotencyRecord(row: IdempotencyRecordRow): IdempotencyRecord | undefined {
  if (row.response_body === null) {
    return undefined;
  }
  return {
    fingerprint: row.fingerprint,
    response: { status: row.status_code, body: row.response_body, ...(row.content_type === null ? {} : { contentType: row.content_type }) },
    expiresAt: new Date(row.expires_at),
  };
}

/** A level as StockLevelResponseDto.of renders it, field for field. */
const LEVEL_ITEM: readonly ItemField[] = [
  ['storeId', 'store_id', 'token'],
  ['productId', 'product_id', 'token'],
  ['quantity', 'quantity', 'number'],
  ['reserved', 'reserved', 'number'],
  ['available', ['quantity', 'reserved']],
  ['version', 'version', 'number'],
  ['lastUpdated', 'last_updated', 'token'],
];

/**
 * The reads, written once for both dialects with Kysely. The write transaction is each dialect's
 * own (SqliteInventoryRepository, PostgresInventoryRepository): the same statements, shaped for
 * what is fast there.
 */
export abstract class KyselyInventoryRepository extends InventoryRepository {
  protected readonly db: Kysely<DatabaseSchema>;

  /** The reads of every request, compiled once: their values are the only thing that changes. */
  private readonly reads;

  constructor(protected readonly connection: DatabaseConnection) {
    super();
    this.db = connection.db;
    const page = () => this.db.selectFrom('stock_levels').select(renderedItem(connection.dialect, LEVEL_ITEM)).where('store_id', '=', '').orderBy('product_id').limit(1);
    this.reads = {
      level: new PreparedQuery(
        connection,
        'read-level',
        this.db.selectFrom('stock_levels').select(['store_id', 'product_id', 'quantity', 'reserved', 'version', 'last_updated']).where('store_id', '=', '').where('product_id', '=', ''),
      ),
      firstLevelPage: new RenderedPageQuery(connection, 'read-level-page-first', page()),
      levelPage: new RenderedPageQuery(connection, 'read-level-page', page().where('product_id', '>', '')),
    };
  }

  async findLevel(storeId: string, productId: string): Promise<StockLevel | undefined> {
    const [row] = await this.reads.level.run([storeId, productId]);
    return row && toStockLevel(row);
  }

  async levelPage(storeId: string, afterProductId: string | undefined, limit: number): Promise<RenderedPage<string>> {
    const { items } =
      afterProductId === undefined
        ? await this.reads.firstLevelPage.read([storeId, limit + 1])
        : await this.reads.levelPage.read([storeId, afterProductId, limit + 1]);
    return renderedPage(items, limit, 'productId');
  }

  async findLevelsOfProduct(productId: string, scope: StoreScope): Promise<StockLevel[]> {
    if (scope !== '*' && scope.length === 0) {
      return [];
    }
    let query = this.db.selectFrom('stock_levels').selectAll().where('product_id', '=', productId);
    if (scope !== '*') {
      query = query.where('store_id', 'in', [...scope]);
    }
    const rows = await query.orderBy('store_id').execute();
    return rows.map(toStockLevel);
  }

  abstract override write<T>(work: (transaction: InventoryWriteTransaction) => Promise<T>): Promise<T>;
}
