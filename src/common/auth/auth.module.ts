import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { AdminGuard } from './admin.guard';
import { ApiKeyGuard } from './api-key.guard';
import { ApiKeyRegistry } from './api-key-registry';
import { FailedAuthLimiter } from './failed-auth-limiter';
import { RateLimitGuard } from './rate-limit.guard';
import { RateLimiter } from './rate-limiter';

@Global()
@Module({
  providers: [
    { provide: ApiKeyRegistry, inject: [AppConfig], useFactory: (config: AppConfig) => new ApiKeyRegistry(config.apiKeys) },
    { provide: FailedAuthLimiter, inject: [AppConfig], useFactory: (config: AppConfig) => new FailedAuthLimiter(config.authFailuresPerMinute) },
    // Counted per instance (per worker process): N of them allow up to N times this rate.
    { provide: RateLimiter, inject: [AppConfig], useFactory: (config: AppConfig) => new RateLimiter(config.rateLimitPerSecond, 1000) },
    ApiKeyGuard,
    RateLimitGuard,
    AdminGuard,
  ],
  exports: [ApiKeyRegistry, ApiKeyGuard, RateLimitGuard, AdminGuard],
})
export class AuthModule {}
