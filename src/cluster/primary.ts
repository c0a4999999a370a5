import cluster, { type Worker } from 'node:cluster';
import { hostname } from 'node:os';
import pino from 'pino';
import { AggregatorRegistry } from 'prom-client';
import type { AppConfig } from '../config/app-config';
import { openDatabase } from '../database/database-connection';
import { prepareDatabase } from '../database/prepare-database';
import { type ClusterMessage, isClusterMessage, METRICS_COLLECT_MS } from './cluster-messages';

/** A worker that dies this soon after it was started counts towards a crash loop. */
const QUICK_DEATH_MS = 10_000;
/** Quick deaths in a row after which the primary gives up instead of forking forever. */
const CRASH_LOOP_LIMIT = 5;
/** Beyond the workers' own shutdown deadline, how long the primary waits for them to exit. */
const EXIT_MARGIN_MS = 5000;

/** A scrape being gathered: the workers yet to answer, and the metrics of those that did. */
interface Collection {
  readonly waiting: Set<number>;
  readonly parts: unknown[][];
  finish(): void;
}

/**
 * The primary of a cluster (WORKERS > 1): prepares the database once (migrations, demo data),
 * forks the workers, which share the port (node:cluster hands them the connections), replaces
 * a worker that dies, relays each worker's commits to the others' change feeds, aggregates their
 * metrics, and on SIGTERM or SIGINT drains them all. It serves no request itself.
 */
export async function runPrimary(config: AppConfig): Promise<void> {
  const logger = pino({ level: config.logLevel, base: { pid: process.pid, hostname: hostname(), role: 'primary' } });
  const connection = openDatabase(config);
  try {
    await prepareDatabase(connection, config, new Date(), logger);
  } finally {
    await connection.close();
  }

  const collections = new Map<number, Collection>();
  let scrapes = 0;
  const startedAt = new Map<number, number>();
  let quickDeaths = 0;
  let stopping = false;
  let failed = false;

  const fork = (): Worker => {
    const worker = cluster.fork();
    startedAt.set(worker.id, Date.now());
    // A channel error of a dying worker must not end the primary: its exit is handled below.
    worker.on('error', (error: Error) => logger.warn({ worker: worker.id, err: error }, 'worker channel error'));
    return worker;
  };
  const workers = () => Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined);
  const send = (worker: Worker, message: ClusterMessage) => {
    if (worker.isConnected()) {
      // A worker killed a moment ago still looks connected until its exit is seen: the write
      // then fails (EPIPE). Without a callback that failure is thrown as the worker's 'error',
      // which took the whole primary down, and no replacement was ever forked.
      worker.send(message, (error: Error | null) => {
        if (error !== null) {
          logger.debug({ worker: worker.id, err: error, type: message.type }, 'message not delivered to an exiting worker');
        }
      });
    }
  };

  cluster.on('message', (from: Worker, message: unknown) => {
    if (!isClusterMessage(message)) {
      return;
    }
    if (message.type === 'inventory:committed') {
      workers().forEach((worker) => worker !== from && send(worker, message));
    } else if (message.type === 'inventory:metrics-request') {
      collectMetrics(from, message.id);
    } else if (message.type === 'inventory:metrics-part') {
      const collection = collections.get(message.id);
      collection?.parts.push(message.metrics);
      collection?.waiting.delete(from.id);
      if (collection?.waiting.size === 0) {
        collection.finish();
      }
    }
  });

  /**
   * Asks every worker for its metrics and answers `asker` with their aggregate (prom-client's
   * AggregatorRegistry: sums, or each metric's own aggregator). A worker that dies meanwhile, or
   * does not answer in time, is left out rather than holding up the scrape.
   */
  const collectMetrics = (asker: Worker, askerId: number) => {
    const id = (scrapes += 1);
    const targets = workers().filter((worker) => worker.isConnected());
    const finish = () => {
      clearTimeout(timer);
      collections.delete(id);
      AggregatorRegistry.aggregate(collection.parts as Parameters<typeof AggregatorRegistry.aggregate>[0])
        .metrics()
        .then(
          (text) => send(asker, { type: 'inventory:metrics', id: askerId, text }),
          (error: Error) => send(asker, { type: 'inventory:metrics', id: askerId, error: error.message }),
        );
    };
    const collection: Collection = { waiting: new Set(targets.map((worker) => worker.id)), parts: [], finish };
    const timer = setTimeout(finish, METRICS_COLLECT_MS);
    collections.set(id, collection);
    targets.forEach((worker) => send(worker, { type: 'inventory:metrics-collect', id }));
  };

  cluster.on('exit', (worker, code, signal) => {
    for (const collection of collections.values()) {
      if (collection.waiting.delete(worker.id) && collection.waiting.size === 0) {
        collection.finish();
      }
    }
    const lived = Date.now() - (startedAt.get(worker.id) ?? 0);
    startedAt.delete(worker.id);
    if (stopping) {
      failed ||= code !== 0;
      logger.info({ worker: worker.id, code, signal }, 'worker exited');
      if (workers().length === 0) {
        logger.info({ failed }, failed ? 'shut down; a worker did not shut down cleanly' : 'shut down cleanly');
        process.exit(failed ? 1 : 0);
      }
      return;
    }
    quickDeaths = lived < QUICK_DEATH_MS ? quickDeaths + 1 : 0;
    if (quickDeaths >= CRASH_LOOP_LIMIT) {
      logger.fatal({ worker: worker.id, code, signal, quickDeaths }, 'workers keep dying right after they start; giving up');
      void stop('crash loop', 1);
      return;
    }
    logger.error({ worker: worker.id, code, signal, livedMs: lived }, 'worker died; starting another');
    fork();
  });

  const stop = (reason: string, exitCode = 0): void => {
    if (stopping) {
      logger.warn({ reason }, 'second signal: killing the workers without finishing the shutdown');
      workers().forEach((worker) => worker.process.kill('SIGKILL'));
      process.exit(1);
    }
    stopping = true;
    failed = exitCode !== 0;
    logger.info({ reason, workers: workers().length }, 'shutting down: draining every worker');
    // A message, not a signal: on Ctrl-C the workers get the terminal's SIGINT as well, and a
    // worker takes a second signal as "exit now".
    workers().forEach((worker) => send(worker, { type: 'inventory:shutdown' }));
    const deadline = setTimeout(() => {
      logger.error({ deadlineMs: config.shutdownTimeoutMs + EXIT_MARGIN_MS }, 'workers did not shut down in time; killing them');
      workers().forEach((worker) => worker.process.kill('SIGKILL'));
      process.exit(1);
    }, config.shutdownTimeoutMs + EXIT_MARGIN_MS);
    deadline.unref();
    if (workers().length === 0) {
      process.exit(exitCode);
    }
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => stop(signal));
  }

  for (let index = 0; index < config.workers; index += 1) {
    fork();
  }
  logger.info({ workers: config.workers, port: config.port }, 'primary started its workers');
}
