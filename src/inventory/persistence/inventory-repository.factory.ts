import type { AppConfig } from '../../config/app-config';
import type { DatabaseConnection } from '../../database/database-connection';
import type { InventoryRepository } from './inventory.repository';
import { PostgresInventoryRepository } from './postgres-inventory.repository';
import { SqliteInventoryRepository } from './sqlite-inventory.repository';

/** The repository for the connection's dialect; on PostgreSQL, commits NOTIFY unless told not to. */
export function inventoryRepositoryFor(connection: DatabaseConnection, config?: Pick<AppConfig, 'feedNotify'>): InventoryRepository {
  return connection.dialect === 'sqlite' ? new SqliteInventoryRepository(connection) : new PostgresInventoryRepository(connection, { notifyCommits: config?.feedNotify ?? true });
}
