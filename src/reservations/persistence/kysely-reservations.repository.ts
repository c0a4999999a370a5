import { Injectable } from '@nestjs/common';
import { DatabaseConnection } from '../../database/database-connection';
import type { LevelRef } from '../../inventory/persistence/inventory.repository';
import type { Reservation } from '../domain/reservation';
import { toReservation } from './reservation-rows';
import { ReservationsRepository } from './reservations.repository';

@Injectable()
export class KyselyReservationsRepository extends ReservationsRepository {
  constructor(private readonly connection: DatabaseConnection) {
    super();
  }

  async findReservation(id: string): Promise<Reservation | undefined> {
    const { db } = this.connection;
    const row = await db.selectFrom('reservations').selectAll().where('id', '=', id).executeTakeFirst();
    if (row === undefined) {
      return undefined;
    }
    const lines = await db.selectFrom('reservation_lines').select(['product_id', 'quantity', 'committed', 'state']).where('reservation_id', '=', id).execute();
    return toReservation(row, lines);
  }

  async levelsWithDueHolds(now: Date, limit: number): Promise<LevelRef[]> {
    const rows = await this.connection.db
      .selectFrom('reservation_lines')
      .select(['store_id', 'product_id'])
      .where('state', '=', 'held')
      .where('expires_at', '<=', now.toISOString())
      .groupBy(['store_id', 'product_id'])
      .orderBy('store_id')
      .orderBy('product_id')
      .limit(limit)
      .execute();
    return rows.map((row) => ({ storeId: row.store_id, productId: row.product_id }));
  }

  async countActive(now: Date): Promise<number> {
    const row = await this.connection.db
      .selectFrom('reservations')
      .select((eb) => eb.fn.countAll<number | string>().as('active'))
      .where('status', '=', 'active')
      .where('expires_at', '>', now.toISOString())
      .executeTakeFirstOrThrow();
    return Number(row.active);
  }
}
