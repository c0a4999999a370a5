import type { Selectable } from 'kysely';
import type { ReservationLinesTable, ReservationsTable } from '../../database/schema';
import type { DueHold } from '../../inventory/persistence/inventory.repository';
import type { Reservation } from '../domain/reservation';

export type ReservationRow = Selectable<ReservationsTable>;
export type ReservationLineRow = Pick<Selectable<ReservationLinesTable>, 'product_id' | 'quantity' | 'committed' | 'state'>;

/** One mapping from stored rows to a reservation, for every adapter and read. */
export function toReservation(row: ReservationRow, lines: readonly ReservationLineRow[]): Reservation {
  return {
    id: row.id,
    clientId: row.client_id,
    storeId: row.store_id,
    status: row.status,
    reference: row.reference,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    expiresAt: new Date(row.expires_at),
    lines: [...lines]
      .sort((a, b) => (a.product_id < b.product_id ? -1 : a.product_id > b.product_id ? 1 : 0))
      .map((line) => ({ productId: line.product_id, quantity: Number(line.quantity), committed: line.committed === null ? null : Number(line.committed), state: line.state })),
  };
}

export interface DueHoldRow {
  reservation_id: string;
  client_id: string;
  reference: string | null;
  store_id: string;
  product_id: string;
  quantity: number | string;
}

export function toDueHold(row: DueHoldRow): DueHold {
  return {
    reservationId: row.reservation_id,
    clientId: row.client_id,
    reference: row.reference,
    storeId: row.store_id,
    productId: row.product_id,
    quantity: Number(row.quantity),
  };
}
