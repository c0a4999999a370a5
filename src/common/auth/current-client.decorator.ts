import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { ApiError } from '../errors/api-error';
import type { Client } from './client';

declare module 'express-serve-static-core' {
  interface Request {
    client?: Client;
  }
}

/** The client the ApiKeyGuard authenticated. */
export const CurrentClient = createParamDecorator((_data: unknown, context: ExecutionContext): Client => {
  const client = context.switchToHttp().getRequest<Request>().client;
  if (client === undefined) {
    // Only reachable if a route is both @Public() and asks for a client: a programming error.
    throw new Error('CurrentClient used on a route without authentication');
  }
  return client;
});

export function assertStoreAccess(client: Client, storeId: string): void {
  if (!client.canAccessStore(storeId)) {
    throw new ApiError('STORE_FORBIDDEN', `this API key may not access store '${storeId}'`);
  }
}
