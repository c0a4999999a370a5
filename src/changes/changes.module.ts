import { Module } from '@nestjs/common';
import { ChangeNotifier } from './change-notifier';
import { ChangesController } from './changes.controller';
import { ChangesService } from './changes.service';
import { LedgerPruner } from './ledger-pruner';
import { ChangesRepository } from './persistence/changes.repository';
import { KyselyChangesRepository } from './persistence/kysely-changes.repository';

@Module({
  controllers: [ChangesController],
  providers: [ChangesService, ChangeNotifier, LedgerPruner, { provide: ChangesRepository, useClass: KyselyChangesRepository }],
  exports: [ChangeNotifier, ChangesRepository],
})
export class ChangesModule {}
