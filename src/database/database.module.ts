import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';
import { Clock } from '../common/clock';
import { DatabaseConnection, openDatabase } from './database-connection';
import { prepareDatabase } from './prepare-database';

async function connect(config: AppConfig, clock: Clock, logger: PinoLogger): Promise<DatabaseConnection> {
  logger.setContext('Database');
  const connection = openDatabase(config, logger);
  try {
    await prepareDatabase(connection, config, clock.now(), logger);
    return connection;
  } catch (error) {
    await connection.close();
    throw error;
  }
}

@Global()
@Module({
  providers: [
    { provide: DatabaseConnection, inject: [AppConfig, Clock, PinoLogger], useFactory: connect },
  ],
  exports: [DatabaseConnection],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(DatabaseConnection) private readonly connection: DatabaseConnection) {}

  /** Runs after every beforeApplicationShutdown hook, i.e. after the update queue has drained. */
  async onApplicationShutdown(): Promise<void> {
    await this.connection.close();
  }
}
