import { Injectable } from '@nestjs/common';
import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type { StoreScope } from '../../config/app-config';
import { CHANGES_CHANNEL } from '../../changes/persistence/postgres-change-listener';
import { DatabaseConnection, type DialectName } from '../../database/database-connection';
import type { DatabaseSchema, StockLevelsTable } from '../../database/schema';
import type { StockLevel } from '../domain/stock-level';
import {
  type IdempotencyClaim,
  type IdempotencyCompletion,
  type IdempotencyRecord,
  InventoryRepository,
  KeyClaimTimeoutError,
  type InventoryWriteTransaction,
  keyId,
  type KeyRef,
  type LedgerEntryDraft,
  type LevelChange,
  levelId,
  type LevelRef,
} from './inventory.repository';

/** Rows per multi-row statement: within SQLite's 32766 bound parameters at 10 per ledger row. */
const ROWS_PER_STATEMENT = 1000;

function toStockLevel(row: Selectable<StockLevelsTable>): StockLevel {
  return {
    storeId: row.store_id,
    productId: row.product_id,
    quantity: row.quantity,
    version: row.version,
    lastUpdated: new Date(row.last_updated),
  };
}

function chunks<T>(items: readonly T[]): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += ROWS_PER_STATEMENT) {
    result.push(items.slice(start, start + ROWS_PER_STATEMENT));
  }
  return result;
}

const LOCK_NOT_AVAILABLE = '55P03';

function isLockTimeout(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === LOCK_NOT_AVAILABLE;
}

/** Groups `items` by one key, keeping first-seen order of the keys. */
function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group === undefined) {
      groups.set(key, [item]);
    } else {
      group.push(item);
    }
  }
  return groups;
}

/**
 * One adapter for both dialects. Set statements are written in SQL both understand (multi-row
 * upserts, `UPDATE … FROM` a `VALUES` list with standard casts); the one difference is row
 * locking, which SQLite does not need: its write transactions (`begin immediate`) lock the file.
 */
@Injectable()
export class KyselyInventoryRepository extends InventoryRepository {
  private readonly db: Kysely<DatabaseSchema>;
  private readonly dialect: DialectName;

  constructor(connection: DatabaseConnection) {
    super();
    this.db = connection.db;
    this.dialect = connection.dialect;
  }

  async findLevel(storeId: string, productId: string): Promise<StockLevel | undefined> {
    const row = await this.db
      .selectFrom('stock_levels')
      .selectAll()
      .where('store_id', '=', storeId)
      .where('product_id', '=', productId)
      .executeTakeFirst();
    return row && toStockLevel(row);
  }

  async listLevels(storeId: string, afterProductId: string | undefined, limit: number): Promise<StockLevel[]> {
    let query = this.db.selectFrom('stock_levels').selectAll().where('store_id', '=', storeId);
    if (afterProductId !== undefined) {
      query = query.where('product_id', '>', afterProductId);
    }
    const rows = await query.orderBy('product_id').limit(limit).execute();
    return rows.map(toStockLevel);
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

  write<T>(work: (transaction: InventoryWriteTransaction) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => work(new KyselyWriteTransaction(trx, this.dialect)));
  }
}

class KyselyWriteTransaction implements InventoryWriteTransaction {
  constructor(
    private readonly trx: Transaction<DatabaseSchema>,
    private readonly dialect: DialectName,
  ) {}

  async claimIdempotencyKeys(claims: readonly IdempotencyClaim[], now: Date, expiresAt: Date): Promise<Set<string>> {
    const createdAt = now.toISOString();
    const claimed = new Set<string>();
    for (const chunk of chunks(claims)) {
      // Rows are claimed in the order given (sorted by the caller), so key locks never cross.
      // An expired record may be taken over before the sweeper deletes it.
      const rows = await this.trx
        .insertInto('idempotency_records')
        .values(
          chunk.map((claim) => ({
            client_id: claim.clientId,
            idempotency_key: claim.key,
            fingerprint: claim.fingerprint,
            status_code: 0,
            response_body: null,
            content_type: null,
            created_at: createdAt,
            expires_at: expiresAt.toISOString(),
          })),
        )
        .onConflict((conflict) =>
          conflict
            .columns(['client_id', 'idempotency_key'])
            .doUpdateSet((eb) => ({
              fingerprint: eb.ref('excluded.fingerprint'),
              status_code: 0,
              response_body: null,
              content_type: null,
              created_at: eb.ref('excluded.created_at'),
              expires_at: eb.ref('excluded.expires_at'),
            }))
            .where('idempotency_records.expires_at', '<=', createdAt),
        )
        .returning(['client_id', 'idempotency_key'])
        .execute()
        .catch((error: unknown) => {
          throw isLockTimeout(error) ? new KeyClaimTimeoutError({ cause: error }) : error;
        });
      rows.forEach((row) => claimed.add(keyId({ clientId: row.client_id, key: row.idempotency_key })));
    }
    return claimed;
  }

  async findIdempotencyRecords(keys: readonly KeyRef[]): Promise<Map<string, IdempotencyRecord>> {
    const records = new Map<string, IdempotencyRecord>();
    for (const [clientId, refs] of groupBy(keys, (ref) => ref.clientId)) {
      for (const chunk of chunks(refs)) {
        const rows = await this.trx
          .selectFrom('idempotency_records')
          .select(['idempotency_key', 'fingerprint', 'status_code', 'response_body', 'content_type', 'expires_at'])
          .where('client_id', '=', clientId)
          .where(
            'idempotency_key',
            'in',
            chunk.map((ref) => ref.key),
          )
          .execute();
        for (const row of rows) {
          if (row.response_body !== null) {
            records.set(keyId({ clientId, key: row.idempotency_key }), {
              fingerprint: row.fingerprint,
              response: { status: row.status_code, body: row.response_body, ...(row.content_type === null ? {} : { contentType: row.content_type }) },
              expiresAt: new Date(row.expires_at),
            });
          }
        }
      }
    }
    return records;
  }

  async lockLevels(levels: readonly LevelRef[]): Promise<Map<string, StockLevel>> {
    const locked = new Map<string, StockLevel>();
    // Stores in the caller's sorted order, products ordered within each: one global lock order.
    for (const [storeId, refs] of groupBy(levels, (ref) => ref.storeId)) {
      for (const chunk of chunks(refs)) {
        let query = this.trx
          .selectFrom('stock_levels')
          .selectAll()
          .where('store_id', '=', storeId)
          .where(
            'product_id',
            'in',
            chunk.map((ref) => ref.productId),
          )
          .orderBy('product_id');
        if (this.dialect === 'postgres') {
          query = query.forUpdate();
        }
        for (const row of await query.execute()) {
          const level = toStockLevel(row);
          locked.set(levelId(level), level);
        }
      }
    }
    return locked;
  }

  async insertLevels(levels: readonly StockLevel[]): Promise<void> {
    for (const chunk of chunks(levels)) {
      await this.trx
        .insertInto('stock_levels')
        .values(
          chunk.map((level) => ({
            store_id: level.storeId,
            product_id: level.productId,
            quantity: level.quantity,
            version: level.version,
            last_updated: level.lastUpdated.toISOString(),
          })),
        )
        .execute();
    }
  }

  async saveLevels(changes: readonly LevelChange[]): Promise<void> {
    for (const chunk of chunks(changes)) {
      const values = sql.join(
        chunk.map(
          ({ next, expectedVersion }) =>
            sql`(cast(${next.storeId} as text), cast(${next.productId} as text), cast(${next.quantity} as bigint), cast(${next.version} as bigint), cast(${next.lastUpdated.toISOString()} as text), cast(${expectedVersion} as bigint))`,
        ),
      );
      const result = await sql`
        with changes (store_id, product_id, quantity, version, last_updated, expected_version) as (values ${values})
        update stock_levels
        set quantity = changes.quantity, version = changes.version, last_updated = changes.last_updated
        from changes
        where stock_levels.store_id = changes.store_id
          and stock_levels.product_id = changes.product_id
          and stock_levels.version = changes.expected_version`.execute(this.trx);
      if (Number(result.numAffectedRows) !== chunk.length) {
        throw new Error('a stock level changed under a held lock');
      }
    }
  }

  async completeIdempotencyRecords(completions: readonly IdempotencyCompletion[]): Promise<void> {
    for (const chunk of chunks(completions)) {
      const values = sql.join(
        chunk.map(
          (completion) =>
            sql`(cast(${completion.clientId} as text), cast(${completion.key} as text), cast(${completion.fingerprint} as text), cast(${completion.response.status} as integer), cast(${completion.response.body} as text), cast(${completion.response.contentType ?? null} as text))`,
        ),
      );
      await sql`
        with answers (client_id, idempotency_key, fingerprint, status_code, response_body, content_type) as (values ${values})
        update idempotency_records
        set fingerprint = answers.fingerprint, status_code = answers.status_code, response_body = answers.response_body, content_type = answers.content_type
        from answers
        where idempotency_records.client_id = answers.client_id
          and idempotency_records.idempotency_key = answers.idempotency_key`.execute(this.trx);
    }
  }

  async releaseIdempotencyClaims(keys: readonly KeyRef[]): Promise<void> {
    for (const [clientId, refs] of groupBy(keys, (ref) => ref.clientId)) {
      for (const chunk of chunks(refs)) {
        await this.trx
          .deleteFrom('idempotency_records')
          .where('client_id', '=', clientId)
          .where(
            'idempotency_key',
            'in',
            chunk.map((ref) => ref.key),
          )
          .where('status_code', '=', 0)
          .execute();
      }
    }
  }

  async appendLedger(entries: readonly LedgerEntryDraft[]): Promise<number | undefined> {
    if (entries.length === 0) {
      return undefined;
    }
    // Taking the seqs from one locked row (not a sequence) keeps them gap-free and makes
    // transactions commit in seq order, so a feed reader never skips a late-committing seq.
    const lastSeq = await this.advanceLedgerHead(entries.length);
    const firstSeq = lastSeq - entries.length + 1;
    const rows = entries.map((entry, index) => ({
      seq: firstSeq + index,
      store_id: entry.storeId,
      product_id: entry.productId,
      delta: entry.delta,
      quantity_after: entry.quantityAfter,
      version_after: entry.versionAfter,
      idempotency_key: entry.idempotencyKey,
      client_id: entry.clientId,
      request_id: entry.requestId,
      created_at: entry.createdAt.toISOString(),
      kind: entry.kind,
      reason: entry.reason,
      reference: entry.reference,
    }));
    for (const chunk of chunks(rows)) {
      await this.trx.insertInto('ledger').values(chunk).execute();
    }
    return lastSeq;
  }

  private async advanceLedgerHead(count: number): Promise<number> {
    if (this.dialect === 'postgres') {
      // The notification is delivered at commit, to every instance listening (change feeds).
      const { rows } = await sql<{ last_seq: number }>`
        with head as (update ledger_head set last_seq = last_seq + ${count} where id = 1 returning last_seq)
        select last_seq, pg_notify(${CHANGES_CHANNEL}, cast(last_seq as text)) from head`.execute(this.trx);
      return rows[0].last_seq;
    }
    const head = await this.trx
      .updateTable('ledger_head')
      .set((eb) => ({ last_seq: eb('last_seq', '+', count) }))
      .where('id', '=', 1)
      .returning('last_seq')
      .executeTakeFirstOrThrow();
    return head.last_seq;
  }
}
