import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AppConfig } from '../../config/app-config';
import { ApiKeyGuard } from './api-key.guard';
import { ApiKeyRegistry } from './api-key-registry';

@Global()
@Module({
  providers: [
    { provide: ApiKeyRegistry, inject: [AppConfig], useFactory: (config: AppConfig) => new ApiKeyRegistry(config.apiKeys) },
    { provide: APP_GUARD, useClass: ApiKeyGuard },
  ],
  exports: [ApiKeyRegistry],
})
export class AuthModule {}
