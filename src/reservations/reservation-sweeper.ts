import { type BeforeApplicationShutdown, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { InventoryService } from '../inventory/inventory.service';
import { Metrics } from '../metrics/metrics';
import { ReservationsRepository } from './persistence/reservations.repository';

/** Levels whose due holds one sweep gives back; the next sweep takes the rest. */
const LEVELS_PER_SWEEP = 500;

/**
 * Gives expired holds back, so that reads show them gone within seconds, and counts the active
 * reservations for `/metrics`. (A decision never waits
 * for it: every group transaction first returns the due holds of the levels it locks.) It runs on
 * every instance; the holds are returned under their levels' locks, each only while still held,
 * so two instances never return one twice.
 */
@Injectable()
export class ReservationSweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly repository: ReservationsRepository,
    private readonly inventory: InventoryService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
    @InjectPinoLogger(ReservationSweeper.name) private readonly logger: PinoLogger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), this.config.reservationSweepIntervalMs);
    this.timer.unref();
  }

  beforeApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** One pass; a pass still running makes the next tick skip. */
  async sweep(): Promise<void> {
    if (this.running) {
      return;
    }
    this.running = true;
    try {
      const levels = await this.repository.levelsWithDueHolds(this.clock.now(), LEVELS_PER_SWEEP);
      if (levels.length > 0) {
        await this.inventory.execute({ clientId: 'reservation-sweeper', requestId: 'reservation-sweeper', atomic: false, items: [{ type: 'expire', levels }] });
        this.logger.debug({ levels: levels.length }, 'expired holds given back');
      }
      this.metrics.activeReservations.set(await this.repository.countActive(this.clock.now()));
    } catch (error) {
      // A full queue, a shutdown or an unreachable database: the next tick tries again.
      this.logger.warn({ err: error }, 'reservation sweep failed');
    } finally {
      this.running = false;
    }
  }
}
