import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { APP_OPTIONS, configureApp, createApp } from '../../src/app.factory';
import { AppModule } from '../../src/app.module';
import { loadConfig } from '../../src/config/app-config';
import { DatabaseConnection } from '../../src/database/database-connection';

/** demo sees every store, pos1 only store-1, pos2 only store-2, ops is an admin. */
export const TEST_API_KEYS = 'demo:*,pos1:store-1,pos2:store-2,ops:admin';

export interface TestAppOptions {
  readonly env?: Record<string, string>;
  /** Reuse a data directory (to restart on the same database). */
  readonly dataDir?: string;
  /** Replace providers, e.g. to slow the repository down in a controlled way. */
  readonly override?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
}

export interface TestApp {
  readonly app: NestExpressApplication;
  readonly url: string;
  readonly dataDir: string;
  readonly connection: DatabaseConnection;
  /** supertest against the listening server (real HTTP over loopback). */
  http(): ReturnType<typeof request>;
  /** Stops the app; keeps the data directory when `keepData` (for a restart). */
  close(options?: { keepData?: boolean }): Promise<void>;
}

/** Starts the real AppModule on a fresh SQLite file, listening on an ephemeral port. */
export async function startApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'inventory-test-'));
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', API_KEYS: TEST_API_KEYS, ...options.env });
  let app: NestExpressApplication;
  if (options.override) {
    const moduleRef = await options.override(Test.createTestingModule({ imports: [AppModule.register(config)] })).compile();
    app = configureApp(moduleRef.createNestApplication<NestExpressApplication>(APP_OPTIONS));
  } else {
    app = await createApp(config);
  }
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return {
    app,
    url,
    dataDir,
    connection: app.get(DatabaseConnection),
    http: () => request(url),
    close: async ({ keepData = false } = {}) => {
      await app.close();
      if (!keepData) {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}
