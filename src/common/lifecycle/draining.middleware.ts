import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { ApiError } from '../errors/api-error';
import { ShutdownState } from './shutdown-state';

/**
 * Once shutdown has begun, every new request is refused and its connection closed — except the
 * health probes, which keep answering (live: yes; ready: no, shutting down) until the end.
 */
@Injectable()
export class DrainingMiddleware implements NestMiddleware {
  constructor(private readonly shutdown: ShutdownState) {}

  use(request: Request, _response: Response, next: NextFunction): void {
    if (this.shutdown.draining && !request.originalUrl.startsWith('/health/')) {
      throw new ApiError('SHUTTING_DOWN', 'this instance is shutting down; retry', { headers: { 'Retry-After': '1', Connection: 'close' } });
    }
    next();
  }
}
