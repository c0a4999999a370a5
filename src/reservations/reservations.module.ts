import { Module } from '@nestjs/common';
import { InventoryModule } from '../inventory/inventory.module';
import { KyselyReservationsRepository } from './persistence/kysely-reservations.repository';
import { ReservationsRepository } from './persistence/reservations.repository';
import { ReservationSweeper } from './reservation-sweeper';
import { ReservationsController } from './reservations.controller';
import { ReservationsService } from './reservations.service';

@Module({
  imports: [InventoryModule],
  controllers: [ReservationsController],
  providers: [ReservationsService, ReservationSweeper, { provide: ReservationsRepository, useClass: KyselyReservationsRepository }],
})
export class ReservationsModule {}
