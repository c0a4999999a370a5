import { getEventListeners } from 'node:events';
import type { PinoLogger } from 'nestjs-pino';
import type { AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics';
import { ChangeNotifier } from './change-notifier';
import type { ChangesRepository } from './persistence/changes.repository';

describe('ChangeNotifier waiters', () => {
  it('listens for shutdown once for all its waiters, and shutdown ends every wait', async () => {
    const repository = { head: () => Promise.resolve(0), floor: () => Promise.resolve(0) } as unknown as ChangesRepository;
    const config = { feedTailChanges: 100, feedNotify: false, feedPollIntervalMs: 60_000 } as AppConfig;
    const notifier = new ChangeNotifier(repository, config, new Metrics(), { warn: () => undefined } as unknown as PinoLogger);
    await notifier.onApplicationBootstrap();
    try {
      const waits = Array.from({ length: 50 }, () => notifier.waitBeyond(0, 60_000));
      // Every wait adding a listener of its own made each commit cost O(waiters²) (a listener list walk per wait).
      expect(getEventListeners(notifier.shutdownSignal, 'abort')).toHaveLength(1);
      notifier.beforeApplicationShutdown();
      expect(await Promise.all(waits)).toEqual(Array.from({ length: 50 }, () => false));
    } finally {
      await notifier.onApplicationShutdown();
    }
  });
});
