import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { APP_OPTIONS, configureApp, createApp, createHttpAdapter } from '../../src/app.factory';
import { AppModule } from '../../src/app.module';
import { loadConfig } from '../../src/config/app-config';
import { DatabaseConnection } from '../../src/database/database-connection';
import { createTestStore, type TestStore } from './dialect';

/** demo sees every store, pos1 only store-1, pos2 only store-2, ops is an admin. */
export const TEST_API_KEYS = 'demo:*,pos1:store-1,pos2:store-2,ops:admin';

export interface TestAppOptions {
  readonly env?: Record<string, string>;
  /** Reuse a store (to restart on the same database); by default a fresh one of the run's dialect. */
  readonly store?: TestStore;
  /** Replace providers, e.g. to slow the repository down in a controlled way. */
  readonly override?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
}

export interface TestApp {
  readonly app: NestExpressApplication;
  readonly url: string;
  readonly store: TestStore;
  readonly connection: DatabaseConnection;
  /** supertest against the listening server (real HTTP over loopback). */
  http(): ReturnType<typeof request>;
  /** Stops the app; keeps the database when `keepData` (for a restart). */
  close(options?: { keepData?: boolean }): Promise<void>;
}

/**
 * Starts the real AppModule, listening on an ephemeral port, on a fresh database of the run's
 * dialect (a SQLite file, or a PostgreSQL database with a random name).
 */
export async function startApp(options: TestAppOptions = {}): Promise<TestApp> {
  const store = options.store ?? (await createTestStore());
  const config = loadConfig({ LOG_LEVEL: 'silent', API_KEYS: TEST_API_KEYS, ...store.env, ...options.env });
  let app: NestExpressApplication;
  if (options.override) {
    const moduleRef = await options.override(Test.createTestingModule({ imports: [AppModule.register(config)] })).compile();
    app = configureApp(moduleRef.createNestApplication<NestExpressApplication>(createHttpAdapter(), APP_OPTIONS));
  } else {
    app = await createApp(config);
  }
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return {
    app,
    url,
    store,
    connection: app.get(DatabaseConnection),
    http: () => request(url),
    close: async ({ keepData = false } = {}) => {
      await app.close();
      if (!keepData) {
        await store.dispose();
      }
    },
  };
}

/**
 * A header value that supertest sends as two header lines (Node's setHeader takes an array);
 * its types only admit a string.
 */
export function twice(value: string): string {
  return [value, value] as unknown as string;
}
