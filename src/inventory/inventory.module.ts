import { Module } from '@nestjs/common';
import { ChangesModule } from '../changes/changes.module';
import { IdempotencyModule } from '../idempotency/idempotency.module';
import { InventoryController } from './inventory.controller';
import { InventoryService } from './inventory.service';
import { InventoryRepository } from './persistence/inventory.repository';
import { KyselyInventoryRepository } from './persistence/kysely-inventory.repository';
import { UpdateProcessor } from './update-processor';
import { UpdateRequestPipe } from './update-request.pipe';

@Module({
  imports: [IdempotencyModule, ChangesModule],
  controllers: [InventoryController],
  providers: [
    InventoryService,
    UpdateProcessor,
    UpdateRequestPipe,
    { provide: InventoryRepository, useClass: KyselyInventoryRepository },
  ],
  exports: [InventoryService],
})
export class InventoryModule {}
