import { Module } from '@nestjs/common';
import { ChangeNotifier } from './change-notifier';
import { ChangesController } from './changes.controller';
import { ChangesService } from './changes.service';
import { ChangesRepository } from './persistence/changes.repository';
import { KyselyChangesRepository } from './persistence/kysely-changes.repository';

@Module({
  controllers: [ChangesController],
  providers: [ChangesService, ChangeNotifier, { provide: ChangesRepository, useClass: KyselyChangesRepository }],
  exports: [ChangeNotifier, ChangesRepository],
})
export class ChangesModule {}
