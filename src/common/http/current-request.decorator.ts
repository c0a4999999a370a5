import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { type RequestLog, requestLogOf } from '../logging';

/** The current request as its work logs it: its id (echoed as X-Request-Id) and its log. */
export const CurrentRequest = createParamDecorator((_data: unknown, context: ExecutionContext): RequestLog => {
  const log = requestLogOf(context.switchToHttp().getRequest<Request>());
  if (log === undefined) {
    // requestLogging runs first on every request of the application: a programming error.
    throw new Error('CurrentRequest used where requestLogging did not run');
  }
  return log;
});
