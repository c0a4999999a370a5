import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ChangeNotifier } from '../changes/change-notifier';
import { Clock } from '../common/clock';
import { type GroupTrace, type SpanAttributes, tracing } from '../common/tracing/tracing';
import { DatabaseUnavailableError } from '../database/database-errors';
import { Metrics } from '../metrics/metrics';
import type { StockLevel } from './domain/stock-level';
import { claimsOf, GroupPlan, levelsToLock, reservationsToLock } from './group-plan';
import { type InventoryWriteTransaction, InventoryRepository, keyId } from './persistence/inventory.repository';
import type { ItemResult, JobResult, UpdateJob } from './update-job';
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
  /** As OpenTelemetry names database systems. */
  private readonly dialect: 'sqlite' | 'postgresql';

  constructor(
    private readonly repository: InventoryRepository,
    private readonly clock: Clock,
    private readonly notifier: ChangeNotifier,
    private readonly metrics: Metrics,
    config: AppConfig,
  ) {
    this.ttlMs = config.idempotencyTtlSeconds * 1000;
    this.dialect = config.databaseUrl === undefined ? 'sqlite' : 'postgresql';
  }

  async processGroup(jobs: readonly UpdateJob[]): Promise<Array<Settled<JobResult>>> {
    if (!tracing.enabled) {
      return this.commitOrIsolate(jobs);
    }
    const updates = jobs.reduce((sum, job) => sum + job.items.length, 0);
    const group = tracing.startGroup(
      jobs.map((job) => job.trace),
      { 'inventory.group.requests': jobs.length, 'inventory.group.updates': updates, 'db.system.name': this.dialect },
    );
    try {
      const settled = await group.run(() => this.commitOrIsolate(jobs, group));
      group.setAttributes(outcomeCounts(settled));
      return settled;
    } finally {
      group.end();
    }
  }

  private async commitOrIsolate(jobs: readonly UpdateJob[], group?: GroupTrace): Promise<Array<Settled<JobResult>>> {
    try {
      const stop = this.metrics.transactionDuration.startTimer();
      const { results, lastSeq, expiredHolds } = await this.repository.write((transaction) => this.runGroup(transaction, jobs));
      stop();
      if (expiredHolds > 0) {
        this.metrics.holdsExpired.inc(expiredHolds);
        group?.setAttributes({ 'inventory.group.expired_holds': expiredHolds });
      }
      this.metrics.groupSize.observe(jobs.reduce((sum, job) => sum + job.items.length, 0));
      if (lastSeq !== undefined) {
        this.notifier.committed(lastSeq);
        group?.setAttributes({ 'inventory.ledger.last_seq': lastSeq });
      }
      return results.map((value) => ({ ok: true, value }));
    } catch (error) {
      group?.recordError(error);
      // Alone, or with the database gone, there is nothing to isolate: every job fails as is.
      if (jobs.length === 1 || error instanceof DatabaseUnavailableError) {
        return jobs.map(() => ({ ok: false, error }));
      }
      // One bad job must not fail its neighbours: run each alone to find out which one it was.
      group?.setAttributes({ 'inventory.group.isolated': true });
      const settled: Array<Settled<JobResult>> = [];
      for (const job of jobs) {
        settled.push(...(await this.commitOrIsolate([job], group)));
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

/** What became of a group's updates (and of requests that failed whole), as its span's attributes. */
function outcomeCounts(settled: ReadonlyArray<Settled<JobResult>>): SpanAttributes {
  const counts = { applied: 0, rejected: 0, replayed: 0, key_reused: 0, failed_requests: 0 };
  for (const outcome of settled) {
    if (!outcome.ok) {
      counts.failed_requests += 1;
      continue;
    }
    for (const item of outcome.value.items) {
      const counted = countedAs(item);
      if (counted !== undefined) {
        counts[counted] += 1;
      }
    }
  }
  return Object.fromEntries(Object.entries(counts).map(([name, count]) => [`inventory.group.${name}`, count]));
}

/** Undefined for the sweeper's returns of expired holds (counted by `inventory.group.expired_holds`). */
function countedAs(item: ItemResult): 'applied' | 'rejected' | 'replayed' | 'key_reused' | undefined {
  switch (item.kind) {
    case 'executed':
      return item.applied ? 'applied' : item.response.status >= 400 ? 'rejected' : undefined;
    case 'replayed':
      return 'replayed';
    case 'key-reused':
      return 'key_reused';
  }
}
