/** Maintenance of idempotency records; claims and writes happen inside inventory transactions. */
export abstract class IdempotencyRepository {
  /** Deletes records that expired at or before `now`; returns how many. */
  abstract deleteExpired(now: Date): Promise<number>;
}
