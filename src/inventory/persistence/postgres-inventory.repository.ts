import { Injectable } from '@nestjs/common';
import { CHANGES_CHANNEL } from '../../changes/persistence/postgres-change-listener';
import type { DatabaseConnection } from '../../database/database-connection';
import type { TranslatingClient, TranslatingPool } from '../../database/postgres-pool';
import type { StockLevel } from '../domain/stock-level';
import {
  type GroupWrites,
  type IdempotencyClaim,
  type IdempotencyRecord,
  type InventoryWriteTransaction,
  KeyClaimTimeoutError,
  keyId,
  type KeyRef,
  levelId,
  type LevelRef,
} from './inventory.repository';
import { type IdempotencyRecordRow, KyselyInventoryRepository, toIdempotencyRecord, toStockLevel } from './kysely-inventory.repository';

/**
 * The statements of a group transaction. Each takes whole sets as arrays (unnested in SQL), so
 * its text never changes with the group's size: it is prepared once per connection, and a group
 * of any size is one round trip per step.
 */
const STATEMENTS = {
  // Every GET of a level: prepared, it skips the query builder and the server's parse.
  findLevel: {
    name: 'inventory-find-level',
    text: 'select * from stock_levels where store_id = $1 and product_id = $2',
  },
  // Claimed in the order given (sorted by the caller), so key locks never cross; an expired
  // record may be taken over before the sweeper deletes it.
  claim: {
    name: 'inventory-claim-keys',
    text: `insert into idempotency_records (client_id, idempotency_key, fingerprint, status_code, response_body, content_type, created_at, expires_at)
           select u.client_id, u.idempotency_key, u.fingerprint, 0, null, null, $4, $5
           from unnest($1::text[], $2::text[], $3::text[]) with ordinality as u(client_id, idempotency_key, fingerprint, position)
           order by u.position
           on conflict (client_id, idempotency_key) do update set fingerprint = excluded.fingerprint, status_code = 0, response_body = null,
             content_type = null, created_at = excluded.created_at, expires_at = excluded.expires_at
           where idempotency_records.expires_at <= excluded.created_at
           returning client_id, idempotency_key`,
  },
  findRecords: {
    name: 'inventory-find-records',
    text: `select r.client_id, r.idempotency_key, r.fingerprint, r.status_code, r.response_body, r.content_type, r.expires_at
           from idempotency_records r join unnest($1::text[], $2::text[]) as u(client_id, idempotency_key) using (client_id, idempotency_key)`,
  },
  // Locked in (store, product) order, whoever asks: level locks never cross either.
  lockLevels: {
    name: 'inventory-lock-levels',
    text: `select s.* from stock_levels s join unnest($1::text[], $2::text[]) as u(store_id, product_id) using (store_id, product_id)
           order by s.store_id, s.product_id
           for update of s`,
  },
  // Everything else in one statement. The ledger head is taken last: it serialises commits, so
  // seqs are gap-free and become visible in order; NOTIFY wakes the change feeds at commit.
  write: {
    name: 'inventory-write-group',
    text: `with inserted as (
             insert into stock_levels (store_id, product_id, quantity, version, last_updated)
             select * from unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[])
             returning 1
           ), saved as (
             update stock_levels s set quantity = u.quantity, version = u.version, last_updated = u.last_updated
             from unnest($6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::text[], $11::bigint[])
               as u(store_id, product_id, quantity, version, last_updated, expected_version)
             where s.store_id = u.store_id and s.product_id = u.product_id and s.version = u.expected_version
             returning 1
           ), completed as (
             update idempotency_records r set fingerprint = u.fingerprint, status_code = u.status_code, response_body = u.response_body, content_type = u.content_type
             from unnest($12::text[], $13::text[], $14::text[], $15::integer[], $16::text[], $17::text[])
               as u(client_id, idempotency_key, fingerprint, status_code, response_body, content_type)
             where r.client_id = u.client_id and r.idempotency_key = u.idempotency_key
             returning 1
           ), released as (
             delete from idempotency_records r using unnest($18::text[], $19::text[]) as u(client_id, idempotency_key)
             where r.client_id = u.client_id and r.idempotency_key = u.idempotency_key and r.status_code = 0
             returning 1
           ), head as (
             update ledger_head set last_seq = last_seq + $20::bigint where id = 1 and $20::bigint > 0 returning last_seq
           ), appended as (
             insert into ledger (seq, store_id, product_id, kind, delta, quantity_after, version_after, idempotency_key, client_id, request_id, reason, reference, created_at)
             select head.last_seq - $20::bigint + u.position, u.store_id, u.product_id, u.kind, u.delta, u.quantity_after, u.version_after,
                    u.idempotency_key, u.client_id, u.request_id, u.reason, u.reference, u.created_at
             from head, unnest($21::text[], $22::text[], $23::text[], $24::bigint[], $25::bigint[], $26::bigint[], $27::text[], $28::text[], $29::text[], $30::text[], $31::text[], $32::text[])
               with ordinality as u(store_id, product_id, kind, delta, quantity_after, version_after, idempotency_key, client_id, request_id, reason, reference, created_at, position)
             returning 1
           )
           select (select count(*) from saved) + (select count(*) from inserted) as levels_written,
                  (select last_seq from head) as last_seq,
                  (select pg_notify('${CHANGES_CHANNEL}', cast(last_seq as text)) from head) as notified,
                  (select count(*) from completed) + (select count(*) from released) + (select count(*) from appended) as rows_written`,
  },
} as const;

const LOCK_NOT_AVAILABLE = '55P03';

function isLockTimeout(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === LOCK_NOT_AVAILABLE;
}

type RecordRow = IdempotencyRecordRow & { client_id: string; idempotency_key: string };

/**
 * The PostgreSQL adapter: a group transaction is BEGIN, claim the keys, lock the levels, write
 * everything, COMMIT — five round trips whatever the group's size, each a prepared statement.
 */
@Injectable()
export class PostgresInventoryRepository extends KyselyInventoryRepository {
  private readonly pool: TranslatingPool;

  constructor(connection: DatabaseConnection) {
    super(connection);
    if (connection.postgres === undefined) {
      throw new Error('PostgresInventoryRepository needs a PostgreSQL connection');
    }
    this.pool = connection.postgres;
  }

  override async findLevel(storeId: string, productId: string): Promise<StockLevel | undefined> {
    const { rows } = await this.pool.execute<Parameters<typeof toStockLevel>[0]>(STATEMENTS.findLevel, [storeId, productId]);
    return rows.length === 0 ? undefined : toStockLevel(rows[0]);
  }

  async write<T>(work: (transaction: InventoryWriteTransaction) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('begin', []);
      const result = await work(new PostgresWriteTransaction(client));
      await client.query('commit', []);
      return result;
    } catch (error) {
      await client.query('rollback', []).catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      // A connection that cannot even roll back is not given back to the pool.
      client.release(broken);
    }
  }
}

class PostgresWriteTransaction implements InventoryWriteTransaction {
  constructor(private readonly client: TranslatingClient) {}

  async claimIdempotencyKeys(claims: readonly IdempotencyClaim[], now: Date, expiresAt: Date): Promise<Set<string>> {
    if (claims.length === 0) {
      return new Set();
    }
    const values = [claims.map((claim) => claim.clientId), claims.map((claim) => claim.key), claims.map((claim) => claim.fingerprint), now.toISOString(), expiresAt.toISOString()];
    try {
      const { rows } = await this.run<{ client_id: string; idempotency_key: string }>(STATEMENTS.claim, values);
      return new Set(rows.map((row) => keyId({ clientId: row.client_id, key: row.idempotency_key })));
    } catch (error) {
      throw isLockTimeout(error) ? new KeyClaimTimeoutError({ cause: error }) : error;
    }
  }

  async findIdempotencyRecords(keys: readonly KeyRef[]): Promise<Map<string, IdempotencyRecord>> {
    const { rows } = await this.run<RecordRow>(STATEMENTS.findRecords, [keys.map((ref) => ref.clientId), keys.map((ref) => ref.key)]);
    const records = new Map<string, IdempotencyRecord>();
    for (const row of rows) {
      const record = toIdempotencyRecord(row);
      if (record !== undefined) {
        records.set(keyId({ clientId: row.client_id, key: row.idempotency_key }), record);
      }
    }
    return records;
  }

  async lockLevels(levels: readonly LevelRef[]): Promise<Map<string, StockLevel>> {
    const { rows } = await this.run<Parameters<typeof toStockLevel>[0]>(STATEMENTS.lockLevels, [levels.map((ref) => ref.storeId), levels.map((ref) => ref.productId)]);
    return new Map(rows.map((row) => [levelId({ storeId: row.store_id, productId: row.product_id }), toStockLevel(row)]));
  }

  async writeGroup({ levelInserts, levelChanges, completions, releasedClaims, ledger }: GroupWrites): Promise<number | undefined> {
    const iso = (date: Date) => date.toISOString();
    const { rows } = await this.run<{ levels_written: number; last_seq: number | null }>(STATEMENTS.write, [
      levelInserts.map((level) => level.storeId),
      levelInserts.map((level) => level.productId),
      levelInserts.map((level) => level.quantity),
      levelInserts.map((level) => level.version),
      levelInserts.map((level) => iso(level.lastUpdated)),
      levelChanges.map(({ next }) => next.storeId),
      levelChanges.map(({ next }) => next.productId),
      levelChanges.map(({ next }) => next.quantity),
      levelChanges.map(({ next }) => next.version),
      levelChanges.map(({ next }) => iso(next.lastUpdated)),
      levelChanges.map(({ expectedVersion }) => expectedVersion),
      completions.map((completion) => completion.clientId),
      completions.map((completion) => completion.key),
      completions.map((completion) => completion.fingerprint),
      completions.map((completion) => completion.response.status),
      completions.map((completion) => completion.response.body),
      completions.map((completion) => completion.response.contentType ?? null),
      releasedClaims.map((ref) => ref.clientId),
      releasedClaims.map((ref) => ref.key),
      ledger.length,
      ledger.map((entry) => entry.storeId),
      ledger.map((entry) => entry.productId),
      ledger.map((entry) => entry.kind),
      ledger.map((entry) => entry.delta),
      ledger.map((entry) => entry.quantityAfter),
      ledger.map((entry) => entry.versionAfter),
      ledger.map((entry) => entry.idempotencyKey),
      ledger.map((entry) => entry.clientId),
      ledger.map((entry) => entry.requestId),
      ledger.map((entry) => entry.reason),
      ledger.map((entry) => entry.reference),
      ledger.map((entry) => iso(entry.createdAt)),
    ]);
    if (Number(rows[0].levels_written) !== levelInserts.length + levelChanges.length) {
      throw new Error('a stock level changed under a held lock');
    }
    return rows[0].last_seq ?? undefined;
  }

  private run<R>(statement: { name: string; text: string }, values: unknown[]): Promise<{ rows: R[] }> {
    return this.client.execute<R>(statement, values);
  }
}
