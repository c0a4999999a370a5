import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { Clock } from '../common/clock';
import type { Settled } from './update-queue';
import { decideUpdate } from './domain/update-decision';
import { type InventoryWriteTransaction, InventoryRepository, type LedgerEntryDraft } from './persistence/inventory.repository';
import type { ItemResult, JobResult, UpdateItem, UpdateJob } from './update-job';
import { renderAborted, renderDecision } from './update-response';

const ATOMIC_SAVEPOINT = 'atomic_batch';

/**
 * Applies a group of queued jobs in one transaction (group commit: one fsync for all of them),
 * keeping arrival order and each job's own outcome. Idempotency claim, version check, stock
 * change, ledger row and idempotency record all happen inside that transaction.
 */
@Injectable()
export class UpdateProcessor {
  private readonly ttlMs: number;

  constructor(
    private readonly repository: InventoryRepository,
    private readonly clock: Clock,
    config: AppConfig,
  ) {
    this.ttlMs = config.idempotencyTtlSeconds * 1000;
  }

  async processGroup(jobs: readonly UpdateJob[]): Promise<Array<Settled<JobResult>>> {
    try {
      const results = await this.repository.write((transaction) => this.runJobs(transaction, jobs));
      return results.map((value) => ({ ok: true, value }));
    } catch (error) {
      if (jobs.length === 1) {
        return [{ ok: false, error }];
      }
      // One bad job must not fail its neighbours: run each alone to find out which one it was.
      const settled: Array<Settled<JobResult>> = [];
      for (const job of jobs) {
        settled.push(...(await this.processGroup([job])));
      }
      return settled;
    }
  }

  private async runJobs(transaction: InventoryWriteTransaction, jobs: readonly UpdateJob[]): Promise<JobResult[]> {
    const now = this.clock.now();
    const ledger: LedgerEntryDraft[] = [];
    const results: JobResult[] = [];
    for (const job of jobs) {
      results.push(job.atomic ? await this.runAtomic(transaction, job, now, ledger) : await this.runItems(transaction, job, now, ledger));
    }
    await transaction.appendLedger(ledger);
    return results;
  }

  private async runItems(transaction: InventoryWriteTransaction, job: UpdateJob, now: Date, ledger: LedgerEntryDraft[]): Promise<JobResult> {
    const items: ItemResult[] = [];
    for (const item of job.items) {
      items.push(await this.runItem(transaction, job, item, now, ledger));
    }
    return { items };
  }

  private async runAtomic(transaction: InventoryWriteTransaction, job: UpdateJob, now: Date, ledger: LedgerEntryDraft[]): Promise<JobResult> {
    const ledgerMark = ledger.length;
    await transaction.savepoint(ATOMIC_SAVEPOINT);
    const { items } = await this.runItems(transaction, job, now, ledger);
    const failed = items.some((item) => !succeeded(item));
    if (failed) {
      await transaction.rollbackToSavepoint(ATOMIC_SAVEPOINT);
      ledger.length = ledgerMark;
    }
    await transaction.releaseSavepoint(ATOMIC_SAVEPOINT);
    if (!failed) {
      return { items };
    }
    // Rolled back: nothing of this job was applied or stored, so a corrected retry runs afresh.
    return {
      items: items.map((item, index): ItemResult => {
        if (item.kind !== 'executed') {
          return item;
        }
        const response = item.applied ? renderAborted(job.items[index].command) : item.response;
        return { ...item, response, applied: false, stored: false };
      }),
    };
  }

  private async runItem(
    transaction: InventoryWriteTransaction,
    job: UpdateJob,
    { command, fingerprint }: UpdateItem,
    now: Date,
    ledger: LedgerEntryDraft[],
  ): Promise<ItemResult> {
    const { clientId } = job;
    const expiresAt = new Date(now.getTime() + this.ttlMs);
    const claimed = await transaction.claimIdempotencyKey({ clientId, key: command.idempotencyKey, fingerprint, now, expiresAt });
    if (!claimed) {
      const record = await transaction.findIdempotencyRecord(clientId, command.idempotencyKey);
      if (record === undefined) {
        throw new Error('idempotency record vanished after a lost claim');
      }
      return record.fingerprint === fingerprint
        ? { kind: 'replayed', response: record.response, expiresAt: record.expiresAt }
        : { kind: 'key-reused' };
    }

    const current = await transaction.findLevelForUpdate(command.storeId, command.productId);
    const decision = decideUpdate(current, command, now);
    if (decision.kind === 'apply') {
      await transaction.saveLevel(decision.next, command.expectedVersion);
      ledger.push({
        storeId: command.storeId,
        productId: command.productId,
        delta: command.delta,
        quantityAfter: decision.next.quantity,
        versionAfter: decision.next.version,
        idempotencyKey: command.idempotencyKey,
        clientId,
        requestId: job.requestId,
        createdAt: now,
      });
    }
    const response = renderDecision(command, decision);
    await transaction.completeIdempotencyRecord(clientId, command.idempotencyKey, response);
    return { kind: 'executed', response, applied: decision.kind === 'apply', stored: true, expiresAt };
  }
}

export function succeeded(item: ItemResult): boolean {
  switch (item.kind) {
    case 'executed':
      return item.applied;
    case 'replayed':
      return item.response.status === 200;
    case 'key-reused':
      return false;
  }
}
