import { Module } from '@nestjs/common';
import { ChangesModule } from '../changes/changes.module';
import { IdempotencyModule } from '../idempotency/idempotency.module';
import { InventoryController } from './inventory.controller';
import { InventoryService } from './inventory.service';
import { InventoryRepository } from './persistence/inventory.repository';
import { DatabaseConnection } from '../database/database-connection';
import { AppConfig } from '../config/app-config';
import { inventoryRepositoryFor } from './persistence/inventory-repository.factory';
import { UpdateProcessor } from './update-processor';
import { UpdateRequestPipe } from './update-request.pipe';

@Module({
  imports: [IdempotencyModule, ChangesModule],
  controllers: [InventoryController],
  providers: [
    InventoryService,
    UpdateProcessor,
    UpdateRequestPipe,
    { provide: InventoryRepository, inject: [DatabaseConnection, AppConfig], useFactory: inventoryRepositoryFor },
  ],
  exports: [InventoryService],
})
export class InventoryModule {}
