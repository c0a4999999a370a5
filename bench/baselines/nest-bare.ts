/**
 * Ceiling (b): NestJS 11 on Express with no-op routes (an update, a level read, a reservation and
 * its commit or release) — no pipes, guards, interceptors or request logging. What the framework
 * costs before any of the service's own work. Prints "ready <port>" when listening.
 */
import 'reflect-metadata';
import { Body, Controller, Get, HttpCode, Module, Param, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { serveClustered } from './clustered';

@Controller()
class NoOpController {
  @Post('v1/inventory/updates')
  @HttpCode(200)
  update(@Body() body: { productId?: string }): object {
    return { productId: body.productId, newQuantity: 50, newVersion: 13, applied: true, lastUpdated: '2026-01-01T00:00:00.000Z' };
  }

  @Get('v1/stores/:storeId/inventory/:productId')
  level(@Param('storeId') storeId: string, @Param('productId') productId: string): object {
    return { storeId, productId, quantity: 45, version: 12, lastUpdated: '2026-01-01T00:00:00.000Z' };
  }

  @Post('v1/reservations')
  @HttpCode(201)
  reserve(@Body() body: { storeId?: string; lines?: unknown }): object {
    return { reservationId: 'res_bare', storeId: body.storeId, status: 'active', expiresAt: '2026-01-01T00:15:00.000Z', lines: body.lines, reference: null };
  }

  @Post('v1/reservations/:reservationId/:action')
  @HttpCode(200)
  finish(@Param('reservationId') reservationId: string, @Param('action') action: string): object {
    return { reservationId, status: action === 'commit' ? 'committed' : 'released', expiresAt: '2026-01-01T00:15:00.000Z', reference: null };
  }
}

@Module({ controllers: [NoOpController] })
class BareModule {}

async function start(): Promise<number> {
  const app = await NestFactory.create(BareModule, { logger: false });
  await app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
  // A normal exit, so that a CPU profile (bench/profile.ts) is written.
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
  return Number(new URL(await app.getUrl()).port);
}

serveClustered(start);
