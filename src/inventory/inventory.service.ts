import { type BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { ChangesRepository } from '../changes/persistence/changes.repository';
import { AppConfig, formatDuration } from '../config/app-config';
import { Metrics, type UpdateOutcome } from '../metrics/metrics';
import { decodeCursor, encodeCursor } from '../common/http/cursor';
import { IDENTIFIER_PATTERN } from './dto/constraints';
import type { Client } from '../common/auth/client';
import { assertStoreAccess } from '../common/auth/current-client.decorator';
import { ApiError } from '../common/errors/api-error';
import type { LineWriter, RequestLog } from '../common/logging';
import { tracing } from '../common/tracing/tracing';
import { fingerprintOf, fingerprintUpdate } from '../idempotency/fingerprint';
import { IdempotencyCache } from '../idempotency/idempotency-cache';
import { keyReusedError } from '../idempotency/idempotency-key';
import type { StockLevel } from './domain/stock-level';
import type { SetLevelCommand, UpdateCommand } from './domain/update-command';
import { InventoryRepository, KeyClaimTimeoutError, LockTimeoutError } from './persistence/inventory.repository';
import { type ItemResult, type JobResult, keyOf, type UpdateItem, type UpdateJob } from './update-job';

/** The items that change a level directly, and the jobs made of them. */
type LevelItem = Extract<UpdateItem, { type: 'adjust' | 'set' }>;
type LevelJob = Omit<UpdateJob, 'items'> & { readonly items: readonly LevelItem[] };
import { succeeded } from './group-plan';
import { UpdateProcessor } from './update-processor';
import { GroupCommitQueue, ProcessingTimeoutError, QueueClosedError, QueueFullError, type Settled } from './update-queue';
import type { UpdateReply } from './update-reply';
import { renderKeyReused } from './update-response';

/** Most updates committed in one transaction; bounds a group's latency and memory. */
const MAX_UPDATES_PER_TRANSACTION = 1000;

/** A page of levels; `items` is the JSON array of the API's items, rendered by the database. */
export interface LevelPage {
  readonly items: string;
  readonly nextCursor: string | null;
  readonly lastSeq: number;
}

/** A page of a level's ledger; `items` is the JSON array of the API's items, rendered by the database. */
export interface HistoryPage {
  readonly items: string;
  readonly nextCursor: string | null;
  /** Entries with seq <= this were pruned by retention (0: none were). */
  readonly prunedThroughSeq: number;
  /** LEDGER_RETENTION as configured (`30d`), or `off`. */
  readonly retention: string;
}


/** Use cases of the inventory. Every change goes through the one update queue. */
@Injectable()
export class InventoryService implements BeforeApplicationShutdown {
  private readonly queue: GroupCommitQueue<UpdateJob, JobResult>;

  constructor(
    private readonly repository: InventoryRepository,
    private readonly changes: ChangesRepository,
    private readonly cache: IdempotencyCache,
    private readonly metrics: Metrics,
    processor: UpdateProcessor,
    private readonly config: AppConfig,
    @InjectPinoLogger(InventoryService.name) private readonly logger: PinoLogger,
  ) {
    this.queue = new GroupCommitQueue(
      (jobs) => processor.processGroup(jobs).then((settled) => this.rememberOutcomes(jobs, settled)),
      {
        capacity: config.queueCapacity,
        submitTimeoutMs: config.queueSubmitTimeoutMs,
        processingTimeoutMs: config.processingTimeoutMs,
        maxGroupWeight: MAX_UPDATES_PER_TRANSACTION,
      },
      (job) => job.items.length,
      (waitsMs) => waitsMs.forEach((waitMs) => metrics.queueWait.observe(waitMs / 1000)),
    );
    metrics.observeQueueDepth(() => this.queue.depth);
    metrics.queueCapacity.set(config.queueCapacity);
  }

  /** Updates waiting in this instance's queue, and how many it holds. */
  get queueLoad(): { depth: number; capacity: number; blockedSubmitters: number } {
    return { depth: this.queue.depth, capacity: this.queue.capacity, blockedSubmitters: this.queue.blockedSubmitters };
  }

  async applyUpdate(client: Client, command: UpdateCommand, log: RequestLog): Promise<UpdateReply> {
    assertStoreAccess(client, command.storeId);
    const { items } = await this.submit({ clientId: client.id, requestId: log.id, atomic: false, items: [itemOf(command)] }, log);
    const result = items[0];
    if (result.kind === 'key-reused') {
      throw keyReusedError();
    }
    return { status: result.response.status, body: result.response.body, replayed: result.kind === 'replayed' };
  }

  async applyBatch(client: Client, storeId: string, commands: readonly UpdateCommand[], atomic: boolean, log: RequestLog): Promise<UpdateReply> {
    assertStoreAccess(client, storeId);
    const { items } = await this.submit({ clientId: client.id, requestId: log.id, atomic, items: commands.map(itemOf) }, log);
    const bodies = items.map((item, index) => (item.kind === 'key-reused' ? renderKeyReused(commands[index]) : item.response).body);
    const succeededCount = items.filter(succeeded).length;
    const summary = { total: items.length, succeeded: succeededCount, failed: items.length - succeededCount };
    // Item bodies are spliced in as stored, so a replayed item is byte-for-byte its original.
    const body = `{"results":[${bodies.join(',')}],"summary":${JSON.stringify(summary)}}`;
    return { status: 200, body, replayed: items.every((item) => item.kind === 'replayed') };
  }

  /** An administrator creates a level or sets its quantity; answered like any update, from the queue. */
  async setLevel(client: Client, command: SetLevelCommand, log: RequestLog): Promise<UpdateReply> {
    const { storeId, productId, quantity, expectedVersion: version, precondition, reason, reference } = command;
    const fingerprint = fingerprintOf({ operation: 'set', storeId, productId, quantity, version, precondition, reason, reference });
    const { items } = await this.submit({ clientId: client.id, requestId: log.id, atomic: false, items: [{ type: 'set', command, fingerprint }] }, log);
    const result = items[0];
    if (result.kind === 'key-reused') {
      throw keyReusedError();
    }
    return { ...result.response, replayed: result.kind === 'replayed' };
  }

  findLevel(client: Client, storeId: string, productId: string): Promise<StockLevel | undefined> {
    assertStoreAccess(client, storeId);
    return this.repository.findLevel(storeId, productId);
  }

  /** One page of a store's levels, with the feed position to follow from. */
  async listLevels(client: Client, storeId: string, cursor: string | undefined, limit: number): Promise<LevelPage> {
    assertStoreAccess(client, storeId);
    const afterProductId = decodeCursor(cursor, (value): value is string => typeof value === 'string' && IDENTIFIER_PATTERN.test(value));
    // The head first: the levels read next reflect at least every change up to it.
    const lastSeq = await this.changes.head();
    const page = await this.repository.levelPage(storeId, afterProductId, limit);
    return { items: page.items, nextCursor: page.nextAfter === undefined ? null : encodeCursor(page.nextAfter), lastSeq };
  }

  /** A level's ledger, newest first. */
  async history(client: Client, storeId: string, productId: string, cursor: string | undefined, limit: number): Promise<HistoryPage> {
    assertStoreAccess(client, storeId);
    const before = decodeCursor(cursor, (value): value is number => Number.isSafeInteger(value) && (value as number) > 0);
    const page = await this.changes.historyPage(storeId, productId, before, limit);
    // Levels are never deleted, so entries prove the level exists; only an empty page needs a look.
    if (page.count === 0 && (await this.repository.findLevel(storeId, productId)) === undefined) {
      throw new ApiError('LEVEL_NOT_FOUND', `no stock level for product ${productId} in store ${storeId}`);
    }
    const retention = this.config.ledgerRetentionMs === undefined ? 'off' : formatDuration(this.config.ledgerRetentionMs);
    return { items: page.items, nextCursor: page.nextAfter === undefined ? null : encodeCursor(page.nextAfter), prunedThroughSeq: page.floor, retention };
  }

  findLevelsOfProduct(client: Client, productId: string): Promise<StockLevel[]> {
    return this.repository.findLevelsOfProduct(productId, client.stores);
  }

  /** Called before the database closes: refuse new updates, finish every accepted one. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }

  /**
   * Runs a job through the one update queue: the way every change, of any feature, reaches the
   * database. Queue refusals and timeouts come back as the API's errors. `log` is the request's,
   * or the service's own for work no request asked for (the reservation sweeper's).
   */
  async execute(job: UpdateJob, log: LineWriter = this.logger): Promise<JobResult> {
    log.debug({ queueDepth: this.queue.depth, updates: job.items.length }, 'change submitted to queue');
    try {
      return await this.queue.submit(tracing.enabled ? { ...job, trace: tracing.enqueued() } : job);
    } catch (error) {
      throw toApiError(error);
    }
  }

  private async submit(job: LevelJob, log: RequestLog): Promise<JobResult> {
    const result = await this.execute(job, log);
    const outcomes = job.items.map((item, index) => {
      const outcome = outcomeOf(result.items[index]);
      this.metrics.updates.inc({ outcome });
      return outcome;
    });
    if (job.items.length === 1) {
      this.logOutcome(log, job.items[0], result.items[0], outcomes[0], 'info');
    } else {
      // A batch gets one line; its items get theirs at debug (not even built when debug is off).
      if (log.isLevelEnabled('debug')) {
        job.items.forEach((item, index) => this.logOutcome(log, item, result.items[index], outcomes[index], 'debug'));
      }
      const counts: Partial<Record<UpdateOutcome, number>> = {};
      outcomes.forEach((outcome) => (counts[outcome] = (counts[outcome] ?? 0) + 1));
      const allApplied = outcomes.every((outcome) => outcome === 'applied' || outcome === 'replayed');
      log[allApplied ? 'info' : 'warn']({ storeId: job.items[0].command.storeId, updates: job.items.length, atomic: job.atomic, outcomes: counts }, 'batch processed');
    }
    return result;
  }

  private logOutcome(log: RequestLog, { type, command }: LevelItem, result: ItemResult, outcome: UpdateOutcome, successLevel: 'info' | 'debug'): void {
    const { storeId, productId, expectedVersion, idempotencyKey, reason, reference } = command;
    const change = type === 'adjust' ? { delta: command.delta } : { quantity: command.quantity };
    const context = { type, storeId, productId, ...change, version: expectedVersion, idempotencyKey, reason, reference, outcome };
    if (outcome === 'applied') {
      log[successLevel](context, 'update applied');
    } else if (outcome === 'replayed') {
      log[successLevel]({ ...context, status: result.kind === 'replayed' ? result.response.status : undefined }, 'idempotent replay');
    } else {
      log[successLevel === 'info' ? 'warn' : 'debug'](context, 'update rejected');
    }
  }

  /** Feeds the fast path as soon as a group commits, whether or not its submitters still wait. */
  private rememberOutcomes(jobs: readonly UpdateJob[], settled: ReadonlyArray<Settled<JobResult>>): ReadonlyArray<Settled<JobResult>> {
    jobs.forEach((job, jobIndex) => {
      const outcome = settled[jobIndex];
      if (!outcome?.ok) {
        return;
      }
      outcome.value.items.forEach((result, itemIndex) => {
        const item = job.items[itemIndex];
        const keyed = keyOf(item);
        // The fast path answers retries of adjustments only.
        if (item.type === 'adjust' && keyed !== undefined && (result.kind === 'replayed' || (result.kind === 'executed' && result.stored))) {
          this.cache.remember(job.clientId, keyed.key, {
            fingerprint: keyed.fingerprint,
            response: result.response,
            expiresAt: result.expiresAt.getTime(),
          });
        }
      });
    });
    return settled;
  }
}

const OUTCOME_BY_CODE: Record<string, UpdateOutcome> = {
  VERSION_CONFLICT: 'version_conflict',
  INSUFFICIENT_STOCK: 'insufficient_stock',
  LEVEL_NOT_FOUND: 'not_found',
  QUANTITY_LIMIT_EXCEEDED: 'quantity_limit',
  PRECONDITION_FAILED: 'precondition',
  PRECONDITION_REQUIRED: 'precondition',
  BATCH_ABORTED: 'aborted',
};

function outcomeOf(result: ItemResult): UpdateOutcome {
  switch (result.kind) {
    case 'key-reused':
      return 'key_reused';
    case 'replayed':
      return 'replayed';
    case 'executed':
      if (result.applied) {
        return 'applied';
      }
      return OUTCOME_BY_CODE[(JSON.parse(result.response.body) as { code?: string }).code ?? ''] ?? 'version_conflict';
  }
}

function itemOf(command: UpdateCommand): LevelItem {
  const { storeId, productId, delta, expectedVersion: version, reason, reference } = command;
  return { type: 'adjust', command, fingerprint: fingerprintUpdate({ storeId, productId, delta, version, reason, reference }) };
}

const RETRY_SOON = { 'Retry-After': '1' };

function toApiError(error: unknown): unknown {
  if (error instanceof QueueFullError) {
    return new ApiError('QUEUE_FULL', `the update queue stayed full for ${error.waitedMs} ms; retry shortly`, { headers: RETRY_SOON });
  }
  if (error instanceof QueueClosedError) {
    return new ApiError('SHUTTING_DOWN', 'this instance is shutting down; retry', { headers: RETRY_SOON });
  }
  if (error instanceof KeyClaimTimeoutError) {
    return new ApiError('IDEMPOTENCY_KEY_IN_USE', 'a request with this idempotency key is still being processed elsewhere; retry to get its outcome', {
      headers: RETRY_SOON,
    });
  }
  if (error instanceof LockTimeoutError) {
    // What SQLite answers for a lock held too long (SQLITE_BUSY), and as safe to retry.
    return new ApiError('DATABASE_UNAVAILABLE', 'another transaction held a row this change needs beyond the lock timeout; nothing was done: retry shortly, with the same idempotency key', {
      headers: RETRY_SOON,
    });
  }
  if (error instanceof ProcessingTimeoutError) {
    return new ApiError(
      'PROCESSING_TIMEOUT',
      `the update did not finish within ${error.timeoutMs} ms and may still be applied; retry with the same idempotency key to learn its outcome`,
    );
  }
  return error;
}
