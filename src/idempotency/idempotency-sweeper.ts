import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';
import { Clock } from '../common/clock';
import { IdempotencyRepository } from './persistence/idempotency.repository';

const MAX_SWEEP_INTERVAL_MS = 60_000;

/** Deletes expired idempotency records periodically, so retention stays at the configured TTL. */
@Injectable()
export class IdempotencySweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  readonly intervalMs: number;

  constructor(
    private readonly repository: IdempotencyRepository,
    private readonly clock: Clock,
    @InjectPinoLogger(IdempotencySweeper.name) private readonly logger: PinoLogger,
    config: AppConfig,
  ) {
    this.intervalMs = Math.min(MAX_SWEEP_INTERVAL_MS, Math.max(1000, (config.idempotencyTtlSeconds * 1000) / 4));
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), this.intervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass; concurrent calls share it. Failures are logged and retried at the next tick. */
  sweep(): Promise<number> {
    this.running ??= this.repository
      .deleteExpired(this.clock.now())
      .then(
        (deleted) => {
          if (deleted > 0) {
            this.logger.info({ deleted }, 'expired idempotency records deleted');
          }
          return deleted;
        },
        (error: unknown) => {
          this.logger.error({ err: error }, 'idempotency sweep failed');
          return 0;
        },
      )
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }
}
