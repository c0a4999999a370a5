import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiError } from '../errors/api-error';
import { RateLimiter } from './rate-limiter';

/**
 * Limits requests per API key (the client the ApiKeyGuard found), and per address on the routes
 * that need no key. Every answer it lets through or refuses carries the IETF RateLimit headers
 * (draft-ietf-httpapi-ratelimit-headers): the policy, what is left and when the window resets;
 * a refusal adds Retry-After.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly keyPolicy: string;
  private readonly addressPolicy: string;

  constructor(private readonly limiter: RateLimiter) {
    const seconds = limiter.windowMs / 1000;
    this.keyPolicy = `"api-key";q=${limiter.limit};w=${seconds}`;
    this.addressPolicy = `"address";q=${limiter.limit};w=${seconds}`;
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.limiter.limit === 0) {
      return true;
    }
    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const byKey = request.client !== undefined;
    const { allowed, remaining, resetSeconds } = this.limiter.take(byKey ? `key:${request.client!.id}` : `address:${request.ip ?? 'unknown'}`);
    const policy = byKey ? 'api-key' : 'address';
    response.setHeader('RateLimit-Policy', byKey ? this.keyPolicy : this.addressPolicy);
    response.setHeader('RateLimit', `"${policy}";r=${remaining};t=${resetSeconds}`);
    if (!allowed) {
      throw new ApiError('RATE_LIMITED', `more than ${this.limiter.limit} requests per second ${byKey ? 'with this API key' : 'from this address'}; retry in ${resetSeconds} s`, {
        headers: { 'Retry-After': String(resetSeconds) },
      });
    }
    return true;
  }
}
