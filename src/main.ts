// First: tracing, when on, must patch http, express and pg before they load.
import './common/tracing/instrument';
import 'reflect-metadata';
import cluster from 'node:cluster';
import { PinoLogger } from 'nestjs-pino';
import { createApp } from './app.factory';
import { runPrimary } from './cluster/primary';
import { isClusterMessage } from './cluster/cluster-messages';
import { OpenConnections } from './common/lifecycle/open-connections';
import { ShutdownState } from './common/lifecycle/shutdown-state';
import { tracing } from './common/tracing/tracing';
import { AppConfig, ConfigError, isClusterPrimary, loadConfig } from './config/app-config';

/** Serves the API in this process: the whole service, or one worker of a cluster. */
async function serve(config: AppConfig): Promise<void> {
  const app = await createApp(config);
  const logger = await app.resolve(PinoLogger);
  logger.setContext('Lifecycle');
  const connections = new OpenConnections(app.getHttpServer());
  let stopping = false;

  const stop = async (reason: string, fromSignal: boolean): Promise<void> => {
    if (stopping) {
      if (fromSignal) {
        logger.warn({ reason }, 'second signal: exiting without finishing the shutdown');
        process.exit(1);
      }
      return;
    }
    stopping = true;
    logger.info({ reason, graceMs: config.shutdownGraceMs, deadlineMs: config.shutdownTimeoutMs }, 'shutting down: refusing new requests, draining the update queue');
    const deadline = setTimeout(() => {
      logger.error({ deadlineMs: config.shutdownTimeoutMs }, 'shutdown did not finish in time');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    app.get(ShutdownState).beginDraining();
    // New requests get 503 and readiness fails meanwhile; accepted updates go on being processed.
    await new Promise((resolve) => setTimeout(resolve, config.shutdownGraceMs));
    const cut = connections.closeUnowed();
    if (cut > 0) {
      logger.info({ connections: cut }, 'closed connections with no whole request to answer');
    }
    // Drains the queue, waits for in-flight requests, closes the listener, then the database.
    await app.close();
    // Spans are exported in batches: the last ones would be lost with the process.
    await tracing.shutdown();
    logger.info('shut down cleanly');
    process.exit(0);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => void stop(signal, true));
  }
  if (cluster.isWorker) {
    // The primary drains its workers with a message. A worker never outlives its primary:
    // node:cluster exits a worker at once when the primary's channel closes (the primary died);
    // what it had acknowledged is committed, what it had not is the client's to retry.
    process.on('message', (message: unknown) => isClusterMessage(message) && message.type === 'inventory:shutdown' && void stop('the primary is shutting down', false));
  }

  await app.listen(config.port);
  logger.info({ port: config.port }, 'listening');
  if (config.tracing.enabled) {
    const { serviceName, exporters, endpoint } = config.tracing;
    logger.info({ serviceName, exporters, endpoint }, 'tracing on');
  }
}

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  if (isClusterPrimary(config.workers, cluster.isPrimary)) {
    await runPrimary(config);
  } else {
    await serve(config);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
