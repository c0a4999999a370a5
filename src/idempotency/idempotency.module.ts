import { Module } from '@nestjs/common';
import { IdempotencyCache } from './idempotency-cache';
import { IdempotencyFastPath } from './idempotency-fast-path';
import { IdempotencySweeper } from './idempotency-sweeper';
import { IdempotencyRepository } from './persistence/idempotency.repository';
import { KyselyIdempotencyRepository } from './persistence/kysely-idempotency.repository';

@Module({
  providers: [
    IdempotencyCache,
    IdempotencyFastPath,
    IdempotencySweeper,
    { provide: IdempotencyRepository, useClass: KyselyIdempotencyRepository },
  ],
  exports: [IdempotencyCache, IdempotencyFastPath],
})
export class IdempotencyModule {}
