import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { requestIdOf } from './request-id';

/** The id of the current request (assigned by the logging middleware, echoed as X-Request-Id). */
export const RequestId = createParamDecorator((_data: unknown, context: ExecutionContext): string =>
  requestIdOf(context.switchToHttp().getRequest<Request>()),
);
