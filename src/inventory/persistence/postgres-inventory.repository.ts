import { Injectable } from '@nestjs/common';
import { CHANGES_CHANNEL } from '../../changes/persistence/postgres-change-listener';
import type { DatabaseConnection } from '../../database/database-connection';
import { ledgerEntryJson } from '../../database/ledger-entry';
import type { TranslatingClient, TranslatingPool } from '../../database/postgres-pool';
import type { Reservation } from '../../reservations/domain/reservation';
import { type DueHoldRow, type ReservationLineRow, type ReservationRow, toDueHold, toReservation } from '../../reservations/persistence/reservation-rows';
import {
  type GroupWrites,
  type IdempotencyClaim,
  type IdempotencyRecord,
  type InventoryWriteTransaction,
  KeyClaimTimeoutError,
  keyId,
  LockTimeoutError,
  type KeyRef,
  levelId,
  type LevelRef,
  type LockedLevels,
} from './inventory.repository';
import { type IdempotencyRecordRow, KyselyInventoryRepository, toIdempotencyRecord, toStockLevel } from './kysely-inventory.repository';

/**
 * The statements of a group transaction. Each takes whole sets as arrays (unnested in SQL), so
 * its text never changes with the group's size: it is prepared once per connection, and a group
 * of any size is one round trip per step. Each names its columns (no `*`): a prepared result
 * must not change shape when a migration run by another instance adds one.
 */
const STATEMENTS = {
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
  // Locked in id order, before any level: reservation locks never cross, nor cross level locks.
  lockReservations: {
    name: 'inventory-lock-reservations',
    text: `select r.id, r.client_id, r.store_id, r.status, r.reference, r.created_at, r.updated_at, r.expires_at, (select coalesce(json_agg(json_build_object('product_id', l.product_id, 'quantity', l.quantity, 'committed', l.committed, 'state', l.state)), '[]')
                         from reservation_lines l where l.reservation_id = r.id) as lines
           from reservations r where r.id = any($1::text[])
           order by r.id
           for update of r`,
  },
  // Read under the levels' locks: holds of a level change only while it is locked.
  findDueHolds: {
    name: 'inventory-find-due-holds',
    text: `select l.reservation_id, l.store_id, l.product_id, l.quantity, r.client_id, r.reference
           from reservation_lines l
           join unnest($1::text[], $2::text[]) as u(store_id, product_id) on l.store_id = u.store_id and l.product_id = u.product_id
           join reservations r on r.id = l.reservation_id
           where l.state = 'held' and l.expires_at <= $3
           order by l.store_id, l.product_id, l.reservation_id`,
  },
  // Only for groups that create or change reservations.
  writeReservations: {
    name: 'inventory-write-reservations',
    text: `with created as (
             insert into reservations (id, client_id, store_id, status, reference, created_at, updated_at, expires_at)
             select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
             returning 1
           ), held as (
             insert into reservation_lines (reservation_id, store_id, product_id, quantity, committed, state, expires_at)
             select * from unnest($9::text[], $10::text[], $11::text[], $12::bigint[], $13::bigint[], $14::text[], $15::text[])
             returning 1
           ), changed as (
             update reservations r set status = u.status, expires_at = u.expires_at, updated_at = u.updated_at
             from unnest($16::text[], $17::text[], $18::text[], $19::text[]) as u(id, status, expires_at, updated_at)
             where r.id = u.id
             returning 1
           ), holds as (
             update reservation_lines l set state = u.state, committed = u.committed, expires_at = coalesce(u.expires_at, l.expires_at)
             from unnest($20::text[], $21::text[], $22::text[], $23::text[], $24::bigint[], $25::text[])
               as u(reservation_id, product_id, expected_state, state, committed, expires_at)
             where l.reservation_id = u.reservation_id and l.product_id = u.product_id and l.state = u.expected_state
             returning 1
           )
           select (select count(*) from holds) as holds_written, (select count(*) from created) + (select count(*) from held) + (select count(*) from changed) as rows_written`,
  },
  // Locked in (store, product) order, whoever asks: level locks never cross either.
  lockLevels: {
    name: 'inventory-lock-levels',
    text: `select s.store_id, s.product_id, s.quantity, s.reserved, s.version, s.last_updated from stock_levels s join unnest($1::text[], $2::text[]) as u(store_id, product_id) using (store_id, product_id)
           order by s.store_id, s.product_id
           for update of s`,
  },
} as const;

/**
 * Everything else of a group in one statement. The ledger head is taken last: it serialises
 * commits, so seqs are gap-free and become visible in order. Each ledger row is appended with its
 * entry (`entryJson`, an expression of the row's columns). With `notify`, a NOTIFY wakes the
 * change feeds of every instance at commit; without (engines that have no LISTEN/NOTIFY), they
 * find the commit by reading the head.
 */
function writeStatement(notify: boolean, entryJson: string): { readonly name: string; readonly text: string } {
  return {
    name: notify ? 'inventory-write-group' : 'inventory-write-group-quiet',
    text: `with inserted as (
             insert into stock_levels (store_id, product_id, quantity, reserved, version, last_updated)
             select * from unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[])
             returning 1
           ), saved as (
             update stock_levels s set quantity = u.quantity, reserved = u.reserved, version = u.version, last_updated = u.last_updated
             from unnest($7::text[], $8::text[], $9::bigint[], $10::bigint[], $11::bigint[], $12::text[], $13::bigint[])
               as u(store_id, product_id, quantity, reserved, version, last_updated, expected_version)
             where s.store_id = u.store_id and s.product_id = u.product_id and s.version = u.expected_version
             returning 1
           ), completed as (
             update idempotency_records r set fingerprint = u.fingerprint, status_code = u.status_code, response_body = u.response_body, content_type = u.content_type
             from unnest($14::text[], $15::text[], $16::text[], $17::integer[], $18::text[], $19::text[])
               as u(client_id, idempotency_key, fingerprint, status_code, response_body, content_type)
             where r.client_id = u.client_id and r.idempotency_key = u.idempotency_key
             returning 1
           ), released as (
             delete from idempotency_records r using unnest($20::text[], $21::text[]) as u(client_id, idempotency_key)
             where r.client_id = u.client_id and r.idempotency_key = u.idempotency_key and r.status_code = 0
             returning 1
           ), head as (
             update ledger_head set last_seq = last_seq + $22::bigint where id = 1 and $22::bigint > 0 returning last_seq
           ), appended as (
             insert into ledger (seq, store_id, product_id, kind, delta, quantity_after, reserved_after, version_after, idempotency_key, client_id, request_id, reason, reference, reservation_id, created_at, entry)
             select fresh.*, ${entryJson} from (
               select head.last_seq - $22::bigint + u.position as seq, u.store_id, u.product_id, u.kind, u.delta, u.quantity_after, u.reserved_after, u.version_after,
                      u.idempotency_key, u.client_id, u.request_id, u.reason, u.reference, u.reservation_id, u.created_at
               from head, unnest($23::text[], $24::text[], $25::text[], $26::bigint[], $27::bigint[], $28::bigint[], $29::bigint[], $30::text[], $31::text[], $32::text[], $33::text[], $34::text[], $35::text[], $36::text[])
                 with ordinality as u(store_id, product_id, kind, delta, quantity_after, reserved_after, version_after, idempotency_key, client_id, request_id, reason, reference, reservation_id, created_at, position)
             ) fresh
             returning 1
           )
           select (select count(*) from saved) + (select count(*) from inserted) as levels_written,
                  (select last_seq from head) as last_seq,
${notify ? `                  (select pg_notify('${CHANGES_CHANNEL}', cast(last_seq as text)) from head) as notified,\n` : ''}                  (select count(*) from completed) + (select count(*) from released) + (select count(*) from appended) as rows_written`,
  };
}

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
  private readonly writeGroupStatement: ReturnType<typeof writeStatement>;

  constructor(connection: DatabaseConnection, { notifyCommits = true }: { readonly notifyCommits?: boolean } = {}) {
    super(connection);
    const entryJson = ledgerEntryJson('postgres').compile(connection.db);
    if (entryJson.parameters.length > 0) {
      throw new Error('a ledger entry must be written from the row alone, without parameters');
    }
    this.writeGroupStatement = writeStatement(notifyCommits, entryJson.sql);
    if (connection.postgres === undefined) {
      throw new Error('PostgresInventoryRepository needs a PostgreSQL connection');
    }
    this.pool = connection.postgres;
  }

  async write<T>(work: (transaction: InventoryWriteTransaction) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('begin', []);
      const result = await work(new PostgresWriteTransaction(client, this.writeGroupStatement));
      await client.query('commit', []);
      return result;
    } catch (error) {
      await client.query('rollback', []).catch(() => {
        broken = true;
      });
      throw isLockTimeout(error) ? new LockTimeoutError({ cause: error }) : error;
    } finally {
      // A connection that cannot even roll back is not given back to the pool.
      client.release(broken);
    }
  }
}

class PostgresWriteTransaction implements InventoryWriteTransaction {
  constructor(
    private readonly client: TranslatingClient,
    private readonly writeGroupStatement: ReturnType<typeof writeStatement>,
  ) {}

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

  async lockReservations(ids: readonly string[]): Promise<Map<string, Reservation>> {
    const { rows } = await this.run<ReservationRow & { lines: ReservationLineRow[] }>(STATEMENTS.lockReservations, [ids]);
    return new Map(rows.map((row) => [row.id, toReservation(row, row.lines)]));
  }

  async lockLevels(levels: readonly LevelRef[], now: Date): Promise<LockedLevels> {
    const { rows } = await this.run<Parameters<typeof toStockLevel>[0]>(STATEMENTS.lockLevels, [levels.map((ref) => ref.storeId), levels.map((ref) => ref.productId)]);
    const locked = new Map(rows.map((row) => [levelId({ storeId: row.store_id, productId: row.product_id }), toStockLevel(row)]));
    // Only levels holding something can have holds that ran out. A statement of its own, after
    // the locks are held: it reads the holds as the last commit under those locks left them.
    const holding = rows.filter((row) => row.reserved > 0);
    if (holding.length === 0) {
      return { levels: locked, dueHolds: [] };
    }
    const due = await this.run<DueHoldRow>(STATEMENTS.findDueHolds, [holding.map((row) => row.store_id), holding.map((row) => row.product_id), now.toISOString()]);
    return { levels: locked, dueHolds: due.rows.map(toDueHold) };
  }

  async writeGroup(writes: GroupWrites): Promise<number | undefined> {
    const { levelInserts, levelChanges, completions, releasedClaims, ledger } = writes;
    const iso = (date: Date) => date.toISOString();
    if (writes.reservationInserts.length + writes.reservationUpdates.length + writes.holdUpdates.length > 0) {
      await this.writeReservations(writes);
    }
    const { rows } = await this.run<{ levels_written: number; last_seq: number | null }>(this.writeGroupStatement, [
      levelInserts.map((level) => level.storeId),
      levelInserts.map((level) => level.productId),
      levelInserts.map((level) => level.quantity),
      levelInserts.map((level) => level.reserved),
      levelInserts.map((level) => level.version),
      levelInserts.map((level) => iso(level.lastUpdated)),
      levelChanges.map(({ next }) => next.storeId),
      levelChanges.map(({ next }) => next.productId),
      levelChanges.map(({ next }) => next.quantity),
      levelChanges.map(({ next }) => next.reserved),
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
      ledger.map((entry) => entry.reservedAfter),
      ledger.map((entry) => entry.versionAfter),
      ledger.map((entry) => entry.idempotencyKey),
      ledger.map((entry) => entry.clientId),
      ledger.map((entry) => entry.requestId),
      ledger.map((entry) => entry.reason),
      ledger.map((entry) => entry.reference),
      ledger.map((entry) => entry.reservationId),
      ledger.map((entry) => iso(entry.createdAt)),
    ]);
    if (Number(rows[0].levels_written) !== levelInserts.length + levelChanges.length) {
      throw new Error('a stock level changed under a held lock');
    }
    return rows[0].last_seq ?? undefined;
  }

  private async writeReservations({ reservationInserts, reservationUpdates, holdUpdates }: GroupWrites): Promise<void> {
    const iso = (date: Date) => date.toISOString();
    const lines = reservationInserts.flatMap((reservation) => reservation.lines.map((line) => ({ reservation, line })));
    const { rows } = await this.run<{ holds_written: number }>(STATEMENTS.writeReservations, [
      reservationInserts.map((reservation) => reservation.id),
      reservationInserts.map((reservation) => reservation.clientId),
      reservationInserts.map((reservation) => reservation.storeId),
      reservationInserts.map((reservation) => reservation.status),
      reservationInserts.map((reservation) => reservation.reference),
      reservationInserts.map((reservation) => iso(reservation.createdAt)),
      reservationInserts.map((reservation) => iso(reservation.updatedAt)),
      reservationInserts.map((reservation) => iso(reservation.expiresAt)),
      lines.map(({ reservation }) => reservation.id),
      lines.map(({ reservation }) => reservation.storeId),
      lines.map(({ line }) => line.productId),
      lines.map(({ line }) => line.quantity),
      lines.map(({ line }) => line.committed),
      lines.map(({ line }) => line.state),
      lines.map(({ reservation }) => iso(reservation.expiresAt)),
      reservationUpdates.map((update) => update.id),
      reservationUpdates.map((update) => update.status),
      reservationUpdates.map((update) => iso(update.expiresAt)),
      reservationUpdates.map((update) => iso(update.updatedAt)),
      holdUpdates.map((hold) => hold.reservationId),
      holdUpdates.map((hold) => hold.productId),
      holdUpdates.map((hold) => hold.expectedState),
      holdUpdates.map((hold) => hold.state),
      holdUpdates.map((hold) => hold.committed),
      holdUpdates.map((hold) => (hold.expiresAt === undefined ? null : iso(hold.expiresAt))),
    ]);
    if (Number(rows[0].holds_written) !== holdUpdates.length) {
      throw new Error('a hold changed under a held lock');
    }
  }

  private run<R>(statement: { name: string; text: string }, values: unknown[]): Promise<{ rows: R[] }> {
    return this.client.execute<R>(statement, values);
  }
}
