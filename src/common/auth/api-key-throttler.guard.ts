import { Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { Request } from 'express';

/** Rate limits per API key (the client the ApiKeyGuard found); per address for public routes. */
@Injectable()
export class ApiKeyThrottlerGuard extends ThrottlerGuard {
  protected override getTracker(request: Record<string, unknown>): Promise<string> {
    const { client, ip } = request as unknown as Request;
    return Promise.resolve(client !== undefined ? `key:${client.id}` : `address:${ip ?? 'unknown'}`);
  }
}
