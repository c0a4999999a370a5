import { Module } from '@nestjs/common';
import { IdempotencyCache } from './idempotency-cache';
import { IdempotencyInterceptor } from './idempotency.interceptor';
import { IdempotencySweeper } from './idempotency-sweeper';
import { IdempotencyRepository } from './persistence/idempotency.repository';
import { KyselyIdempotencyRepository } from './persistence/kysely-idempotency.repository';

@Module({
  providers: [
    IdempotencyCache,
    IdempotencyInterceptor,
    IdempotencySweeper,
    { provide: IdempotencyRepository, useClass: KyselyIdempotencyRepository },
  ],
  exports: [IdempotencyCache, IdempotencyInterceptor],
})
export class IdempotencyModule {}
