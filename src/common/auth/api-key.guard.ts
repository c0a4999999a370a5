import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ApiError } from '../errors/api-error';
import { ApiKeyRegistry } from './api-key-registry';
import { FailedAuthLimiter } from './failed-auth-limiter';
import { clientNetwork } from './client-network';
import { IS_PUBLIC } from './public.decorator';

export const API_KEY_HEADER = 'x-api-key';

/** Global guard: every route needs a known `X-API-Key` unless marked @Public(). */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly registry: ApiKeyRegistry,
    private readonly failures: FailedAuthLimiter,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic === true) {
      return true;
    }
    const request = context.switchToHttp().getRequest<Request>();
    const address = clientNetwork(request.ip);
    const header = request.headers[API_KEY_HEADER];
    const client = this.registry.authenticate(typeof header === 'string' ? header : undefined);
    // Checked after authenticating, but answered the same whether the key was right or not.
    const retryAfter = this.failures.retryAfterSeconds(address, client?.id);
    if (retryAfter > 0) {
      throw new ApiError('RATE_LIMITED', 'too many failed authentications from this address; keys not used from it before are refused until the minute is over', {
        headers: { 'Retry-After': String(retryAfter) },
      });
    }
    if (client === undefined) {
      this.failures.recordFailure(address);
      throw new ApiError('UNAUTHENTICATED', 'send a valid API key in the X-API-Key header', { headers: { 'WWW-Authenticate': 'ApiKey header="X-API-Key"' } });
    }
    this.failures.recordSuccess(address, client.id);
    request.client = client;
    return true;
  }
}
