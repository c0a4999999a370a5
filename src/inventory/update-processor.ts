import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ChangeNotifier } from '../changes/change-notifier';
import { Clock } from '../common/clock';
import { DatabaseUnavailableError } from '../database/database-errors';
import { Metrics } from '../metrics/metrics';
import type { StockLevel } from './domain/stock-level';
import { claimsOf, GroupPlan, levelsToLock, reservationsToLock } from './group-plan';
import { type InventoryWriteTransaction, InventoryRepository, keyId } from './persistence/inventory.repository';
import type { JobResult, UpdateJob } from './update-job';
import type { Settled } from './update-queue';

/**
 * Applies a group of queued jobs in one transaction (group commit: one commit, one fsync for
 * all of them), keeping arrival order and each job's own outcome. The idempotency claims, the
 * version checks, the stock changes, the ledger rows and the stored answers all happen inside
 * that transaction, so the guarantees hold across instances sharing one database.
 */
@Injectable()
export class UpdateProcessor {
  private readonly ttlMs: number;

  constructor(
    private readonly repository: InventoryRepository,
    private readonly clock: Clock,
    private readonly notifier: ChangeNotifier,
    private readonly metrics: Metrics,
    config: AppConfig,
  ) {
    this.ttlMs = config.idempotencyTtlSeconds * 1000;
  }

  async processGroup(jobs: readonly UpdateJob[]): Promise<Array<Settled<JobResult>>> {
    try {
      const stop = this.metrics.transactionDuration.startTimer();
      const { results, lastSeq, expiredHolds } = await this.repository.write((transaction) => this.runGroup(transaction, jobs));
      stop();
      if (expiredHolds > 0) {
        this.metrics.holdsExpired.inc(expiredHolds);
      }
      this.metrics.groupSize.observe(jobs.reduce((sum, job) => sum + job.items.length, 0));
      if (lastSeq !== undefined) {
        this.notifier.committed(lastSeq);
      }
      return results.map((value) => ({ ok: true, value }));
    } catch (error) {
      // Alone, or with the database gone, there is nothing to isolate: every job fails as is.
      if (jobs.length === 1 || error instanceof DatabaseUnavailableError) {
        return jobs.map(() => ({ ok: false, error }));
      }
      // One bad job must not fail its neighbours: run each alone to find out which one it was.
      const settled: Array<Settled<JobResult>> = [];
      for (const job of jobs) {
        settled.push(...(await this.processGroup([job])));
      }
      return settled;
    }
  }

  private async runGroup(transaction: InventoryWriteTransaction, jobs: readonly UpdateJob[]): Promise<{ results: JobResult[]; lastSeq?: number; expiredHolds: number }> {
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + this.ttlMs);
    // Locks in a fixed order (keys, reservations, levels, then the ledger head), each set sorted.
    const claims = claimsOf(jobs);
    const claimed = await transaction.claimIdempotencyKeys(claims, now, expiresAt);
    const unclaimed = claims.filter((claim) => !claimed.has(keyId(claim)));
    const records = unclaimed.length > 0 ? await transaction.findIdempotencyRecords(unclaimed) : new Map();
    const reservationIds = reservationsToLock(jobs);
    let reservations = reservationIds.length > 0 ? await transaction.lockReservations(reservationIds) : new Map();
    const levelRefs = levelsToLock(jobs, claimed, reservations);
    const { levels, dueHolds } = levelRefs.length > 0 ? await transaction.lockLevels(levelRefs, now) : { levels: new Map<string, StockLevel>(), dueHolds: [] };
    if (reservationIds.length > 0) {
      // Another transaction may have given back an expired hold of theirs while this one waited
      // for the levels (that takes only the level's lock): read their holds again, now stable.
      reservations = await transaction.lockReservations(reservationIds);
    }

    const plan = new GroupPlan({ claims, claimed, records, reservations, levels, dueHolds, now, expiresAt });
    const results = jobs.map((job) => plan.run(job));

    const lastSeq = await transaction.writeGroup(plan.writes());
    return { results, lastSeq, expiredHolds: plan.expiredHolds };
  }
}
