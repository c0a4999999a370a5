import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ApiError } from '../errors/api-error';
import { ADMIN_ONLY } from './admin-only.decorator';

/** Global guard, after authentication and the rate limit: @AdminOnly() routes need an admin key. */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const adminOnly = this.reflector.getAllAndOverride<boolean | undefined>(ADMIN_ONLY, [context.getHandler(), context.getClass()]);
    if (adminOnly === true && context.switchToHttp().getRequest<Request>().client?.isAdmin !== true) {
      throw new ApiError('ADMIN_REQUIRED', 'this route needs an admin API key');
    }
    return true;
  }
}
