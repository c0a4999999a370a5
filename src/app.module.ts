import { type DynamicModule, type MiddlewareConsumer, Module, type NestModule, RequestMethod } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { AdminGuard } from './common/auth/admin.guard';
import { ApiKeyGuard } from './common/auth/api-key.guard';
import { RateLimitGuard } from './common/auth/rate-limit.guard';
import { LoggerModule } from 'nestjs-pino';
import { ChangesModule } from './changes/changes.module';
import { ClusterModule } from './cluster/cluster.module';
import { AuthModule } from './common/auth/auth.module';
import { CommonModule } from './common/common.module';
import { ProblemDetailsFilter } from './common/errors/problem-details.filter';
import { JsonBodyGuard } from './common/http/json-body.guard';
import { DrainingMiddleware } from './common/lifecycle/draining.middleware';
import { createValidationPipe } from './common/http/validation';
import { createRootLogger, loggerParams, ROOT_LOGGER } from './common/logging';
import { type AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { HttpMetricsMiddleware } from './metrics/http-metrics.middleware';
import { MetricsModule } from './metrics/metrics.module';
import { InventoryModule } from './inventory/inventory.module';
import { ReservationsModule } from './reservations/reservations.module';

/**
 * The whole application. The global filter, pipe and guards are providers here (not set up in
 * main.ts), so the e2e suites that build this module run exactly production's pipeline.
 */
@Module({})
export class AppModule implements NestModule {
  static register(config: AppConfig): DynamicModule {
    const rootLogger = createRootLogger(config);
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot(loggerParams(rootLogger)),
        ClusterModule,
        MetricsModule,
        CommonModule,
        AuthModule,
        DatabaseModule,
        InventoryModule,
        ReservationsModule,
        ChangesModule,
        HealthModule,
      ],
      providers: [
        { provide: ROOT_LOGGER, useValue: rootLogger },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        { provide: APP_PIPE, useFactory: createValidationPipe },
        // In this order: who is calling, within their rate, allowed on this route, then their body.
        { provide: APP_GUARD, useExisting: ApiKeyGuard },
        { provide: APP_GUARD, useExisting: RateLimitGuard },
        { provide: APP_GUARD, useExisting: AdminGuard },
        { provide: APP_GUARD, useClass: JsonBodyGuard },
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(HttpMetricsMiddleware, DrainingMiddleware)
      .forRoutes({ path: '*path', method: RequestMethod.ALL });
  }
}
