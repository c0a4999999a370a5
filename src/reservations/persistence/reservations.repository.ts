import type { LevelRef } from '../../inventory/persistence/inventory.repository';
import type { Reservation } from '../domain/reservation';

/** Reads of reservations; every write goes through the inventory's group transaction. */
export abstract class ReservationsRepository {
  abstract findReservation(id: string): Promise<Reservation | undefined>;
  /** Levels with at least one hold that expired at or before `now`, at most `limit`. */
  abstract levelsWithDueHolds(now: Date, limit: number): Promise<LevelRef[]>;
  /** Reservations holding stock at `now`. */
  abstract countActive(now: Date): Promise<number>;
}
