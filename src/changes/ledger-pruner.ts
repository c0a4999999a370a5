import { type BeforeApplicationShutdown, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics';
import { ChangeNotifier } from './change-notifier';
import { ChangesRepository } from './persistence/changes.repository';

/** Rows deleted per transaction: short enough that a group transaction never waits long for one. */
const PRUNE_BATCH = 1000;

/**
 * Keeps the ledger within LEDGER_RETENTION: every LEDGER_PRUNE_INTERVAL_MS, deletes the rows
 * older than the retention, oldest first, a small batch per transaction, yielding between
 * batches so updates go on meanwhile. It runs on every instance; the floor's row lock makes two
 * of them take turns. Rows newer than the retention are never touched.
 */
@Injectable()
export class LedgerPruner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;

  constructor(
    private readonly repository: ChangesRepository,
    private readonly notifier: ChangeNotifier,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
    @InjectPinoLogger(LedgerPruner.name) private readonly logger: PinoLogger,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.ledgerRetentionMs === undefined) {
      return;
    }
    this.timer = setInterval(() => void this.prune(), this.config.ledgerPruneIntervalMs);
    this.timer.unref();
    void this.prune();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass; a pass still running makes the next tick skip. */
  prune(): Promise<void> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<void> {
    const retentionMs = this.config.ledgerRetentionMs;
    if (retentionMs === undefined) {
      return;
    }
    const cutoff = new Date(this.clock.now().getTime() - retentionMs);
    let total = 0;
    try {
      while (!this.stopping) {
        const { pruned, floor } = await this.repository.pruneBatch(cutoff, PRUNE_BATCH);
        this.notifier.pruned(floor);
        total += pruned;
        this.metrics.ledgerPruned.inc(pruned);
        if (pruned < PRUNE_BATCH) {
          break;
        }
        // Let the update queue's transactions in between batches.
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (total > 0) {
        this.logger.info({ pruned: total, floor: this.notifier.floor, cutoff }, 'ledger pruned');
      }
    } catch (error) {
      // An unreachable or busy database: the next pass tries again.
      this.logger.warn({ err: error }, 'ledger pruning failed');
    }
  }
}
