import { SetMetadata } from '@nestjs/common';

export const ADMIN_ONLY = 'auth:admin-only';

/** Marks a route that only admin API keys may call (403 ADMIN_REQUIRED otherwise). */
export const AdminOnly = (): MethodDecorator & ClassDecorator => SetMetadata(ADMIN_ONLY, true);
