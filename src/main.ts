// First: tracing, when on, must patch http, express and pg before they load.
import './common/tracing/instrument';
import 'reflect-metadata';
import { PinoLogger } from 'nestjs-pino';
import { createApp } from './app.factory';
import { ShutdownState } from './common/lifecycle/shutdown-state';
import { tracing } from './common/tracing/tracing';
import { ConfigError, loadConfig } from './config/app-config';

async function bootstrap(): Promise<void> {
  const config = loadConfig(process.env);
  const app = await createApp(config);
  const logger = await app.resolve(PinoLogger);
  logger.setContext('Lifecycle');
  let stopping = false;

  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without finishing the shutdown');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, graceMs: config.shutdownGraceMs, deadlineMs: config.shutdownTimeoutMs }, 'shutting down: refusing new requests, draining the update queue');
    const deadline = setTimeout(() => {
      logger.error({ deadlineMs: config.shutdownTimeoutMs }, 'shutdown did not finish in time');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    app.get(ShutdownState).beginDraining();
    // New requests get 503 and readiness fails meanwhile; accepted updates go on being processed.
    await new Promise((resolve) => setTimeout(resolve, config.shutdownGraceMs));
    // Drains the queue, waits for in-flight requests, closes the listener, then the database.
    await app.close();
    // Spans are exported in batches: the last ones would be lost with the process.
    await tracing.shutdown();
    logger.info('shut down cleanly');
    process.exit(0);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => void stop(signal));
  }

  await app.listen(config.port);
  logger.info({ port: config.port }, 'listening');
  if (config.tracing.enabled) {
    const { serviceName, exporters, endpoint } = config.tracing;
    logger.info({ serviceName, exporters, endpoint }, 'tracing on');
  }
}

bootstrap().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
