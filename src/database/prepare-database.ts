import type { AppConfig } from '../config/app-config';
import type { DatabaseConnection } from './database-connection';
import { DEMO_LEVELS, seedChainData, seedDemoData } from './demo-data';
import { migrateToLatest } from './migrate';

export interface ProgressLogger {
  info(details: object, message: string): void;
}

/**
 * Migrates the schema to the latest version and, when this call created it (a first start on
 * an empty database), seeds the demo data if configured to.
 */
export async function prepareDatabase(connection: DatabaseConnection, config: AppConfig, now: Date, logger: ProgressLogger): Promise<void> {
  const report = await migrateToLatest(connection);
  logger.info({ dialect: connection.dialect, location: connection.location, migrationsApplied: report.applied }, 'database ready');
  if (!report.createdSchema || config.seedDemo === 'none') {
    return;
  }
  await seedDemoData(connection.db, now);
  logger.info({ levels: DEMO_LEVELS.length }, 'demo data seeded');
  if (config.seedDemo === 'chain') {
    const startedAt = Date.now();
    const levels = await seedChainData(connection.db, now, config.seedChainStores, config.seedChainProducts);
    logger.info({ stores: config.seedChainStores, products: config.seedChainProducts, levels, ms: Date.now() - startedAt }, 'chain demo data seeded');
  }
}
