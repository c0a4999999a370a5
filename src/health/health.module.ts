import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { InventoryModule } from '../inventory/inventory.module';
import { HealthController } from './health.controller';

@Module({
  // Failures are answered (and logged) as problem details by the global filter.
  imports: [TerminusModule.forRoot({ logger: false }), InventoryModule],
  controllers: [HealthController],
})
export class HealthModule {}
