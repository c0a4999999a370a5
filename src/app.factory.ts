import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import type { AppConfig } from './config/app-config';
import { setupOpenApi } from './openapi';

export interface CreateAppOptions {
  /** Close gracefully on SIGTERM/SIGINT (the process entry point wants it; test suites do not). */
  readonly shutdownHooks?: boolean;
}

/** Builds the application the same way for the process entry point and the e2e suites. */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config), {
    // JsonBodyMiddleware parses bodies inside the Nest pipeline instead.
    bodyParser: false,
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  // Routes that want an ETag set a meaningful one (the version); hashing every body is waste.
  app.set('etag', false);
  if (options.shutdownHooks === true) {
    app.enableShutdownHooks();
  }
  setupOpenApi(app);
  return app;
}
