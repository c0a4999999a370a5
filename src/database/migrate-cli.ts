import pino from 'pino';
import { ConfigError, loadConfig } from '../config/app-config';
import { openDatabase } from './database-connection';
import { prepareDatabase } from './prepare-database';

/** `npm run migrate`: brings the configured database to the latest schema, then exits. */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = pino({ level: config.logLevel === 'silent' ? 'info' : config.logLevel, name: 'migrate' });
  const connection = openDatabase(config);
  try {
    await prepareDatabase(connection, config, new Date(), logger);
  } finally {
    await connection.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
