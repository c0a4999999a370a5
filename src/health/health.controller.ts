import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, type HealthCheckResult, HealthIndicatorService } from '@nestjs/terminus';
import { sql } from 'kysely';
import { Public } from '../common/auth/public.decorator';
import { ApiProblemResponse } from '../common/errors/api-problem-response.decorator';
import { ApiError } from '../common/errors/api-error';
import { ShutdownState } from '../common/lifecycle/shutdown-state';
import { DatabaseConnection } from '../database/database-connection';
import { InventoryService } from '../inventory/inventory.service';

const DATABASE_PING_TIMEOUT_MS = 1000;

/** Probes for orchestrators: liveness (the process answers) and readiness (it can do its job). */
@ApiTags('operations')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly connection: DatabaseConnection,
    private readonly inventory: InventoryService,
    private readonly shutdown: ShutdownState,
  ) {}

  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process is up and its event loop answers' })
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: the database answers, the update queue has room, no shutdown in progress' })
  @ApiOkResponse({ schema: { example: { status: 'ok', info: { database: { status: 'up' }, queue: { status: 'up', depth: 0, capacity: 100 }, lifecycle: { status: 'up' } } } } })
  @ApiProblemResponse(503, 'NOT_READY: `checks` tells which check failed.')
  async ready(): Promise<HealthCheckResult> {
    try {
      return await this.health.check([() => this.database(), () => this.queue(), () => this.lifecycle()]);
    } catch (error) {
      if (error instanceof ServiceUnavailableException) {
        const checks = error.getResponse() as HealthCheckResult;
        const failing = Object.keys(checks.error ?? {}).join(', ');
        throw new ApiError('NOT_READY', `not ready: ${failing}`, { extensions: { checks }, headers: { 'Retry-After': '1' } });
      }
      throw error;
    }
  }

  private async database() {
    const indicator = this.indicators.check('database');
    try {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${DATABASE_PING_TIMEOUT_MS} ms`)), DATABASE_PING_TIMEOUT_MS);
      });
      await Promise.race([sql`select 1`.execute(this.connection.db), timeout]).finally(() => clearTimeout(timer));
      return indicator.up({ dialect: this.connection.dialect });
    } catch (error) {
      return indicator.down({ dialect: this.connection.dialect, message: error instanceof Error ? error.message : 'unreachable' });
    }
  }

  private queue() {
    const indicator = this.indicators.check('queue');
    const { depth, capacity } = this.inventory.queueLoad;
    return depth < capacity ? indicator.up({ depth, capacity }) : indicator.down({ depth, capacity, message: 'update queue full' });
  }

  private lifecycle() {
    const indicator = this.indicators.check('lifecycle');
    return this.shutdown.draining ? indicator.down({ message: 'shutting down' }) : indicator.up();
  }
}
