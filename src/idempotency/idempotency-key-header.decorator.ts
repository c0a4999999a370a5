import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { type HeaderKey, idempotencyKeyHeaderOf } from './idempotency-key';

/** The request's Idempotency-Key header, parsed: nothing, a key, or why it is refused. */
export const IdempotencyKeyHeader = createParamDecorator((_data: unknown, context: ExecutionContext): HeaderKey =>
  idempotencyKeyHeaderOf(context.switchToHttp().getRequest<Request>()),
);
