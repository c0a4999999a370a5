import { type BeforeApplicationShutdown, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';
import { DatabaseConnection } from '../database/database-connection';
import { ChangesRepository } from './persistence/changes.repository';
import { PostgresChangeListener } from './persistence/postgres-change-listener';

/** How often the head is read while someone waits, in case a notification was missed. */
const POLL_INTERVAL_MS = 1000;

/**
 * Knows the last committed seq and wakes whoever waits for a newer one: long polls and streams.
 * This instance's commits are published directly; other instances' commits arrive through
 * PostgreSQL NOTIFY, with a periodic read of the head as a safety net.
 */
@Injectable()
export class ChangeNotifier implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private latest = 0;
  private readonly waiters = new Set<() => void>();
  private readonly shutdown = new AbortController();
  private listener: PostgresChangeListener | undefined;
  private poller: NodeJS.Timeout | undefined;

  constructor(
    private readonly connection: DatabaseConnection,
    private readonly repository: ChangesRepository,
    private readonly config: AppConfig,
    @InjectPinoLogger(ChangeNotifier.name) private readonly logger: PinoLogger,
  ) {}

  /** Aborted when shutdown begins: long polls answer at once and streams end. */
  get shutdownSignal(): AbortSignal {
    return this.shutdown.signal;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.latest = await this.repository.head();
    if (this.connection.dialect !== 'postgres' || this.config.databaseUrl === undefined) {
      return;
    }
    this.listener = new PostgresChangeListener(
      this.config.databaseUrl,
      (seq) => this.published(seq),
      (error) => this.logger.warn({ err: error }, 'change listener lost its connection; reconnecting'),
    );
    await this.listener.start();
    this.poller = setInterval(() => void this.poll(), POLL_INTERVAL_MS);
    this.poller.unref();
  }

  beforeApplicationShutdown(): void {
    this.shutdown.abort();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.poller);
    await this.listener?.stop();
  }

  /** Called with the last seq of every commit seen. */
  published(seq: number): void {
    if (seq <= this.latest) {
      return;
    }
    this.latest = seq;
    const waiters = [...this.waiters];
    this.waiters.clear();
    waiters.forEach((wake) => wake());
  }

  /**
   * Resolves true as soon as a seq beyond `seq` is committed, false after `timeoutMs`, when
   * `signal` aborts, or when shutdown begins.
   */
  waitBeyond(seq: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.latest > seq) {
      return Promise.resolve(true);
    }
    if (this.shutdown.signal.aborted || signal?.aborted === true || timeoutMs <= 0) {
      return Promise.resolve(false);
    }
    return new Promise<boolean>((resolve) => {
      const finish = (woken: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        signal?.removeEventListener('abort', abandon);
        this.shutdown.signal.removeEventListener('abort', abandon);
        resolve(woken);
      };
      const wake = () => finish(true);
      const abandon = () => finish(false);
      const timer = setTimeout(abandon, timeoutMs);
      this.waiters.add(wake);
      signal?.addEventListener('abort', abandon, { once: true });
      this.shutdown.signal.addEventListener('abort', abandon, { once: true });
    });
  }

  private async poll(): Promise<void> {
    if (this.waiters.size === 0) {
      return;
    }
    try {
      this.published(await this.repository.head());
    } catch {
      // The database is unreachable: the next tick tries again; waiters time out meanwhile.
    }
  }
}
