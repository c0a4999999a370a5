import { Injectable } from '@nestjs/common';
import type { SqliteStatement } from 'kysely';
import type { DatabaseConnection } from '../../database/database-connection';
import type { StatementCachingDatabase } from '../../database/sqlite-statement-cache';
import type { StockLevel } from '../domain/stock-level';
import type { Selectable } from 'kysely';
import type { StockLevelsTable } from '../../database/schema';
import { type DueHoldRow, type ReservationLineRow, type ReservationRow, toDueHold, toReservation } from '../../reservations/persistence/reservation-rows';
import type { Reservation } from '../../reservations/domain/reservation';
import {
  type DueHold,
  type GroupWrites,
  type IdempotencyClaim,
  type IdempotencyRecord,
  type InventoryWriteTransaction,
  keyId,
  type KeyRef,
  levelId,
  type LevelRef,
  type LockedLevels,
} from './inventory.repository';
import { type IdempotencyRecordRow, KyselyInventoryRepository, toIdempotencyRecord, toStockLevel } from './kysely-inventory.repository';

type LevelRow = Selectable<StockLevelsTable>;

/** The statements of the write transaction, prepared once. */
class Statements {
  readonly findLevel: SqliteStatement;
  readonly claim: SqliteStatement;
  readonly findRecord: SqliteStatement;
  readonly insertLevel: SqliteStatement;
  readonly saveLevel: SqliteStatement;
  readonly completeRecord: SqliteStatement;
  readonly releaseClaim: SqliteStatement;
  readonly advanceHead: SqliteStatement;
  readonly insertLedger: SqliteStatement;
  readonly findReservation: SqliteStatement;
  readonly findReservationLines: SqliteStatement;
  readonly findDueHolds: SqliteStatement;
  readonly insertReservation: SqliteStatement;
  readonly insertHold: SqliteStatement;
  readonly updateReservation: SqliteStatement;
  readonly updateHold: SqliteStatement;

  constructor(sqlite: StatementCachingDatabase) {
    this.findLevel = sqlite.prepare('select * from stock_levels where store_id = ? and product_id = ?');
    // An expired record may be taken over before the sweeper deletes it.
    this.claim = sqlite.prepare(
      `insert into idempotency_records (client_id, idempotency_key, fingerprint, status_code, response_body, content_type, created_at, expires_at)
       values (?, ?, ?, 0, null, null, ?, ?)
       on conflict (client_id, idempotency_key) do update set fingerprint = excluded.fingerprint, status_code = 0, response_body = null,
         content_type = null, created_at = excluded.created_at, expires_at = excluded.expires_at
       where idempotency_records.expires_at <= excluded.created_at
       returning client_id`,
    );
    this.findRecord = sqlite.prepare(
      'select fingerprint, status_code, response_body, content_type, expires_at from idempotency_records where client_id = ? and idempotency_key = ?',
    );
    this.insertLevel = sqlite.prepare('insert into stock_levels (store_id, product_id, quantity, reserved, version, last_updated) values (?, ?, ?, ?, ?, ?)');
    this.saveLevel = sqlite.prepare('update stock_levels set quantity = ?, reserved = ?, version = ?, last_updated = ? where store_id = ? and product_id = ? and version = ?');
    this.completeRecord = sqlite.prepare(
      'update idempotency_records set fingerprint = ?, status_code = ?, response_body = ?, content_type = ? where client_id = ? and idempotency_key = ?',
    );
    this.releaseClaim = sqlite.prepare('delete from idempotency_records where client_id = ? and idempotency_key = ? and status_code = 0');
    this.advanceHead = sqlite.prepare('update ledger_head set last_seq = last_seq + ? where id = 1 returning last_seq');
    this.insertLedger = sqlite.prepare(
      `insert into ledger (seq, store_id, product_id, kind, delta, quantity_after, reserved_after, version_after, idempotency_key, client_id, request_id, reason, reference, reservation_id, created_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.findReservation = sqlite.prepare('select * from reservations where id = ?');
    this.findReservationLines = sqlite.prepare('select product_id, quantity, committed, state from reservation_lines where reservation_id = ?');
    this.findDueHolds = sqlite.prepare(
      `select l.reservation_id, l.store_id, l.product_id, l.quantity, r.client_id, r.reference
       from reservation_lines l join reservations r on r.id = l.reservation_id
       where l.store_id = ? and l.product_id = ? and l.state = 'held' and l.expires_at <= ?
       order by l.reservation_id`,
    );
    this.insertReservation = sqlite.prepare(
      'insert into reservations (id, client_id, store_id, status, reference, created_at, updated_at, expires_at) values (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.insertHold = sqlite.prepare(
      'insert into reservation_lines (reservation_id, store_id, product_id, quantity, committed, state, expires_at) values (?, ?, ?, ?, ?, ?, ?)',
    );
    this.updateReservation = sqlite.prepare('update reservations set status = ?, expires_at = ?, updated_at = ? where id = ?');
    this.updateHold = sqlite.prepare(
      'update reservation_lines set state = ?, committed = ?, expires_at = coalesce(?, expires_at) where reservation_id = ? and product_id = ? and state = ?',
    );
  }
}

/**
 * The SQLite adapter: the write transaction (and the single-level read every GET makes) as
 * prepared better-sqlite3 statements, row by row. With SQLite a statement costs microseconds,
 * while building and preparing a large multi-row statement costs more than the rows. The
 * transaction holds Kysely's connection lock, so no other query interleaves with it.
 */
@Injectable()
export class SqliteInventoryRepository extends KyselyInventoryRepository {
  private readonly statements: Statements;

  constructor(connection: DatabaseConnection) {
    super(connection);
    if (connection.sqlite === undefined) {
      throw new Error('SqliteInventoryRepository needs a SQLite connection');
    }
    this.statements = new Statements(connection.sqlite);
  }

  override findLevel(storeId: string, productId: string): Promise<StockLevel | undefined> {
    return this.connection.db.connection().execute(() => {
      const row = this.statements.findLevel.all([storeId, productId])[0] as LevelRow | undefined;
      return Promise.resolve(row && toStockLevel(row));
    });
  }

  override write<T>(work: (transaction: InventoryWriteTransaction) => Promise<T>): Promise<T> {
    return this.connection.writeTransaction(() => work(new SqliteWriteTransaction(this.statements)));
  }
}

class SqliteWriteTransaction implements InventoryWriteTransaction {
  constructor(private readonly statements: Statements) {}

  claimIdempotencyKeys(claims: readonly IdempotencyClaim[], now: Date, expiresAt: Date): Promise<Set<string>> {
    const createdAt = now.toISOString();
    const expires = expiresAt.toISOString();
    const claimed = new Set<string>();
    for (const claim of claims) {
      if (this.statements.claim.all([claim.clientId, claim.key, claim.fingerprint, createdAt, expires]).length > 0) {
        claimed.add(keyId(claim));
      }
    }
    return Promise.resolve(claimed);
  }

  findIdempotencyRecords(keys: readonly KeyRef[]): Promise<Map<string, IdempotencyRecord>> {
    const records = new Map<string, IdempotencyRecord>();
    for (const ref of keys) {
      const row = this.statements.findRecord.all([ref.clientId, ref.key])[0] as IdempotencyRecordRow | undefined;
      const record = row && toIdempotencyRecord(row);
      if (record !== undefined) {
        records.set(keyId(ref), record);
      }
    }
    return Promise.resolve(records);
  }

  lockReservations(ids: readonly string[]): Promise<Map<string, Reservation>> {
    // The transaction (`begin immediate`) holds the database's write lock already.
    const reservations = new Map<string, Reservation>();
    for (const id of ids) {
      const row = this.statements.findReservation.all([id])[0] as ReservationRow | undefined;
      if (row !== undefined) {
        reservations.set(id, toReservation(row, this.statements.findReservationLines.all([id]) as ReservationLineRow[]));
      }
    }
    return Promise.resolve(reservations);
  }

  lockLevels(levels: readonly LevelRef[], now: Date): Promise<LockedLevels> {
    // The transaction (`begin immediate`) holds the database's write lock already.
    const at = now.toISOString();
    const locked = new Map<string, StockLevel>();
    const dueHolds: DueHold[] = [];
    for (const ref of levels) {
      const row = this.statements.findLevel.all([ref.storeId, ref.productId])[0] as LevelRow | undefined;
      if (row === undefined) {
        continue;
      }
      locked.set(levelId(ref), toStockLevel(row));
      // Only a level holding something can have holds that ran out.
      if (row.reserved > 0) {
        for (const hold of this.statements.findDueHolds.all([ref.storeId, ref.productId, at]) as DueHoldRow[]) {
          dueHolds.push(toDueHold(hold));
        }
      }
    }
    return Promise.resolve({ levels: locked, dueHolds });
  }

  writeGroup(writes: GroupWrites): Promise<number | undefined> {
    const { levelInserts, levelChanges, completions, releasedClaims, ledger } = writes;
    const statements = this.statements;
    for (const level of levelInserts) {
      statements.insertLevel.run([level.storeId, level.productId, level.quantity, level.reserved, level.version, level.lastUpdated.toISOString()]);
    }
    for (const { next, expectedVersion } of levelChanges) {
      const { changes } = statements.saveLevel.run([next.quantity, next.reserved, next.version, next.lastUpdated.toISOString(), next.storeId, next.productId, expectedVersion]);
      if (Number(changes) !== 1) {
        throw new Error(`stock level ${next.storeId}/${next.productId} changed under a held lock`);
      }
    }
    this.writeReservations(writes);
    for (const { clientId, key, fingerprint, response } of completions) {
      statements.completeRecord.run([fingerprint, response.status, response.body, response.contentType ?? null, clientId, key]);
    }
    for (const ref of releasedClaims) {
      statements.releaseClaim.run([ref.clientId, ref.key]);
    }
    if (ledger.length === 0) {
      return Promise.resolve(undefined);
    }
    // Seqs come from one counter row: gap-free, and in commit order.
    const { last_seq: lastSeq } = statements.advanceHead.all([ledger.length])[0] as { last_seq: number };
    let seq = lastSeq - ledger.length;
    for (const entry of ledger) {
      seq += 1;
      statements.insertLedger.run([
        seq,
        entry.storeId,
        entry.productId,
        entry.kind,
        entry.delta,
        entry.quantityAfter,
        entry.reservedAfter,
        entry.versionAfter,
        entry.idempotencyKey,
        entry.clientId,
        entry.requestId,
        entry.reason,
        entry.reference,
        entry.reservationId,
        entry.createdAt.toISOString(),
      ]);
    }
    return Promise.resolve(lastSeq);
  }

  private writeReservations({ reservationInserts, reservationUpdates, holdUpdates }: GroupWrites): void {
    const statements = this.statements;
    for (const reservation of reservationInserts) {
      const expiresAt = reservation.expiresAt.toISOString();
      statements.insertReservation.run([
        reservation.id,
        reservation.clientId,
        reservation.storeId,
        reservation.status,
        reservation.reference,
        reservation.createdAt.toISOString(),
        reservation.updatedAt.toISOString(),
        expiresAt,
      ]);
      for (const line of reservation.lines) {
        statements.insertHold.run([reservation.id, reservation.storeId, line.productId, line.quantity, line.committed, line.state, expiresAt]);
      }
    }
    for (const update of reservationUpdates) {
      statements.updateReservation.run([update.status, update.expiresAt.toISOString(), update.updatedAt.toISOString(), update.id]);
    }
    for (const hold of holdUpdates) {
      const { changes } = statements.updateHold.run([hold.state, hold.committed, hold.expiresAt?.toISOString() ?? null, hold.reservationId, hold.productId, hold.expectedState]);
      if (Number(changes) !== 1) {
        throw new Error(`hold ${hold.reservationId}/${hold.productId} left ${hold.expectedState} under a held lock`);
      }
    }
  }
}
