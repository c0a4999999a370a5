import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { AppConfig } from '../../config/app-config';
import { ApiKeyGuard } from './api-key.guard';
import { ApiKeyRegistry } from './api-key-registry';
import { ApiKeyThrottlerGuard } from './api-key-throttler.guard';
import { FailedAuthLimiter } from './failed-auth-limiter';

@Global()
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        // Counted per instance: N instances behind a balancer allow up to N times this rate.
        throttlers: [{ name: 'default', ttl: 1000, limit: config.rateLimitPerSecond }],
        skipIf: () => config.rateLimitPerSecond === 0,
      }),
    }),
  ],
  providers: [
    { provide: ApiKeyRegistry, inject: [AppConfig], useFactory: (config: AppConfig) => new ApiKeyRegistry(config.apiKeys) },
    { provide: FailedAuthLimiter, inject: [AppConfig], useFactory: (config: AppConfig) => new FailedAuthLimiter(config.authFailuresPerMinute) },
    // Order matters: authenticate first, then count the request against its key.
    { provide: APP_GUARD, useClass: ApiKeyGuard },
    { provide: APP_GUARD, useClass: ApiKeyThrottlerGuard },
  ],
  exports: [ApiKeyRegistry],
})
export class AuthModule {}
