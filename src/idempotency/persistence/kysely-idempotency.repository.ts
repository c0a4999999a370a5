import { Injectable } from '@nestjs/common';
import { DatabaseConnection } from '../../database/database-connection';
import { IdempotencyRepository } from './idempotency.repository';

@Injectable()
export class KyselyIdempotencyRepository extends IdempotencyRepository {
  constructor(private readonly connection: DatabaseConnection) {
    super();
  }

  async deleteExpired(now: Date): Promise<number> {
    const result = await this.connection.db
      .deleteFrom('idempotency_records')
      .where('expires_at', '<=', now.toISOString())
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
