import type { DatabaseConnection } from '../../database/database-connection';
import type { InventoryRepository } from './inventory.repository';
import { PostgresInventoryRepository } from './postgres-inventory.repository';
import { SqliteInventoryRepository } from './sqlite-inventory.repository';

/** The repository for the connection's dialect. */
export function inventoryRepositoryFor(connection: DatabaseConnection): InventoryRepository {
  return connection.dialect === 'sqlite' ? new SqliteInventoryRepository(connection) : new PostgresInventoryRepository(connection);
}
