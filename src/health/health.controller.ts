import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, type HealthCheckResult, HealthIndicatorService } from '@nestjs/terminus';
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
  @ApiOkResponse({
    description: 'The database check also tells how commits reach the disk, read from the live connection: journalMode and synchronous on SQLite, synchronousCommit on PostgreSQL.',
    schema: {
      example: {
        status: 'ok',
        info: { database: { status: 'up', dialect: 'sqlite', journalMode: 'wal', synchronous: 'FULL' }, queue: { status: 'up', depth: 0, capacity: 100 }, lifecycle: { status: 'up' } },
      },
    },
  })
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
      const durability = await Promise.race([this.connection.durability(), timeout]).finally(() => clearTimeout(timer));
      return indicator.up({ dialect: this.connection.dialect, ...durability });
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
